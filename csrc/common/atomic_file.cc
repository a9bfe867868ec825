#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/errors.h"

namespace pywfst {

namespace {

constexpr size_t kBufferSize = size_t{1} << 20;

bool WriteAll(int fd, const char* p, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// errno of a failed call, EIO for a write() that wrote nothing without saying why.
int LastError() { return errno != 0 ? errno : EIO; }

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  // A name no other writer (process or thread) uses.
  static std::atomic<uint64_t> counter{0};
  temporary_ = Concat(path_, ".tmp-", getpid(), "-",
                      counter.fetch_add(1, std::memory_order_relaxed));
  fd_ = open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    throw IoError(Concat("cannot write ", what_, " '", path_, "': ", std::strerror(errno)));
  }
  buffer_.reserve(kBufferSize);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temporary_.c_str());
}

void AtomicFile::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  if (buffer_.size() + size > kBufferSize) Flush();
  if (size >= kBufferSize) {  // a large array: straight to the file
    if (error_ == 0 && !WriteAll(fd_, p, size)) error_ = LastError();
    return;
  }
  buffer_.insert(buffer_.end(), p, p + size);
}

void AtomicFile::WriteAt(const void* data, size_t size, int64_t offset) {
  Flush();
  if (error_ == 0 && pwrite(fd_, data, size, offset) != static_cast<ssize_t>(size)) {
    error_ = LastError();
  }
}

void AtomicFile::Flush() {
  if (error_ == 0 && !WriteAll(fd_, buffer_.data(), buffer_.size())) error_ = LastError();
  buffer_.clear();
}

void AtomicFile::Commit() {
  Flush();
  if (close(fd_) != 0 && error_ == 0) error_ = errno;
  fd_ = -1;
  if (error_ == 0 && rename(temporary_.c_str(), path_.c_str()) != 0) error_ = errno;
  if (error_ != 0) {
    throw IoError(Concat("cannot write ", what_, " '", path_, "': ", std::strerror(error_)));
  }
  committed_ = true;
}

}  // namespace pywfst
