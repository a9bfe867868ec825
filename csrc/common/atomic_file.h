// A file written under a temporary name beside its path and renamed over the path once complete,
// so that readers never see a partial file and processes that opened or mapped the old one keep
// theirs. Writes are buffered; the first failure is remembered and reported by Commit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pywfst {

class AtomicFile {
 public:
  // `what` names the kind of file in error messages ("mapped graph file").
  AtomicFile(std::string path, std::string what);
  // Removes the temporary file unless Commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends `size` bytes.
  void Write(const void* data, size_t size);
  template <typename T>
  void WriteValue(const T& value) {
    Write(&value, sizeof(T));
  }
  // Overwrites `size` bytes at `offset`, inside what was written (a header completed last).
  void WriteAt(const void* data, size_t size, int64_t offset);
  // Closes the file and renames it over the path; throws IoError naming the path when anything
  // failed.
  void Commit();

 private:
  void Flush();

  std::string path_, what_, temporary_;
  int fd_ = -1;
  int error_ = 0;  // errno of the first failure
  bool committed_ = false;
  std::vector<char> buffer_;
};

}  // namespace pywfst
