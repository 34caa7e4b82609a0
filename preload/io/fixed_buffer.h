// A bounded text buffer for building messages and paths without allocating: usable in hooks and
// in signal handlers. Text past the capacity is dropped, never overflows.
#ifndef THREADLEAK_PRELOAD_IO_FIXED_BUFFER_H_
#define THREADLEAK_PRELOAD_IO_FIXED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace threadleak {

template <size_t kCapacity>
class FixedBuffer {
 public:
  FixedBuffer& Append(std::string_view text) {
    for (char c : text) {
      if (size_ + 1 >= kCapacity) break;
      data_[size_++] = c;
    }
    data_[size_] = '\0';
    return *this;
  }
  FixedBuffer& AppendChar(char c) { return Append(std::string_view(&c, 1)); }
  FixedBuffer& AppendInt(int64_t value) {
    char digits[24];
    size_t n = 0;
    uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : value;
    do {
      digits[n++] = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0) AppendChar('-');
    while (n > 0) AppendChar(digits[--n]);
    return *this;
  }
  FixedBuffer& AppendHex(uint64_t value) {
    Append("0x");
    char digits[16];
    size_t n = 0;
    do {
      digits[n++] = "0123456789abcdef"[value & 0xf];
      value >>= 4;
    } while (value != 0);
    while (n > 0) AppendChar(digits[--n]);
    return *this;
  }
  void Clear() { size_ = 0, data_[0] = '\0'; }
  const char* c_str() const { return data_; }
  std::string_view view() const { return {data_, size_}; }
  size_t size() const { return size_; }
  bool truncated() const { return size_ + 1 >= kCapacity; }

 private:
  char data_[kCapacity] = {};
  size_t size_ = 0;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_IO_FIXED_BUFFER_H_
