#include "preload/io/small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace threadleak {

SmallFile::~SmallFile() {
  if (data_ != nullptr) munmap(data_, mapped_);
}

bool SmallFile::Read(const char* path, size_t max_bytes, const char* too_large) {
  // O_NONBLOCK: opening a FIFO without a writer returns at once (and so does a device that
  // would wait for a carrier); O_NOCTTY: a terminal never becomes the controlling one.
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    error_ = strerror(errno);
    return false;
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    error_ = "not a regular file";
    return false;
  }
  // One byte more than allowed, to tell a file of max_bytes from a longer one (it may grow
  // while it is read: the size fstat gave is not trusted).
  void* memory =
      mmap(nullptr, max_bytes + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    close(fd);
    error_ = "out of memory";
    return false;
  }
  data_ = static_cast<char*>(memory);
  mapped_ = max_bytes + 1;
  while (size_ < mapped_) {
    ssize_t n = read(fd, data_ + size_, mapped_ - size_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = strerror(errno);
      close(fd);
      size_ = 0;
      return false;
    }
    if (n == 0) break;
    size_ += static_cast<size_t>(n);
  }
  close(fd);
  if (size_ > max_bytes) {
    error_ = too_large;
    size_ = 0;
    return false;
  }
  return true;
}

}  // namespace threadleak
