// Reading a small file named by an option (include=, suppressions=) at start-up. Any process
// that inherits the environment does this, so it must never block — a FIFO with no writer, a
// terminal or another device would — and never take the program's heap: the file is read into
// pages mapped for it, up to a bound. Not for signal handlers (strerror).
#ifndef THREADLEAK_PRELOAD_IO_SMALL_FILE_H_
#define THREADLEAK_PRELOAD_IO_SMALL_FILE_H_

#include <cstddef>
#include <string_view>

namespace threadleak {

class SmallFile {
 public:
  SmallFile() = default;
  ~SmallFile();
  SmallFile(const SmallFile&) = delete;
  SmallFile& operator=(const SmallFile&) = delete;

  // Reads `path` if it is a regular file of at most `max_bytes`. On failure returns false and
  // error() says why, in words for a warning ("not a regular file", "larger than 64 KiB", or
  // the system's reason).
  bool Read(const char* path, size_t max_bytes, const char* too_large);

  std::string_view text() const { return {data_, size_}; }
  const char* error() const { return error_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
  const char* error_ = "";
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_IO_SMALL_FILE_H_
