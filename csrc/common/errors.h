// Error types of the native core. Every check names what was wrong and where (file, argument).
// The Python module maps InputError to ValueError, IoError to OSError and UsageError to
// RuntimeError.
#pragma once

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pywfst {

// Malformed or inconsistent input: a bad file format, an out-of-range label, a NaN score.
class InputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A file that cannot be opened or read to the end.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A call the object cannot serve as used: one BeamSearch entered from two threads at once.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Long native work stopped because its interrupt check said so (Ctrl-C in Python, or another
// thread of a batch failed). The Python module raises the pending Python exception instead.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Returns true when long native work should stop (it may run Python's signal handlers).
using InterruptCheck = std::function<bool()>;

// Builds a message from streamable parts: Concat("state ", s, " of ", path).
template <typename... Parts>
std::string Concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace pywfst
