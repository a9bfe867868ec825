// Error types of the native core. Every check names what was wrong and where (file, argument).
// The Python module maps InputError to ValueError and IoError to OSError.
#pragma once

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

// Builds a message from streamable parts: Concat("state ", s, " of ", path).
template <typename... Parts>
std::string Concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace pywfst
