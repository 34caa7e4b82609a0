// A fixed-capacity array in its own anonymous mapping (MAP_NORESERVE: only the pages written are
// ever backed). The reachability scan keeps its tables here rather than on the malloc heap: while
// it walks the heap of the process it runs in, allocating would move the very chunks it reads.
#ifndef THREADLEAK_PRELOAD_REPORT_MAPPED_ARRAY_H_
#define THREADLEAK_PRELOAD_REPORT_MAPPED_ARRAY_H_

#include <sys/mman.h>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace threadleak {

template <typename T>
class MappedArray {
  static_assert(std::is_trivially_copyable_v<T>, "elements are zero-filled pages, never built");

 public:
  MappedArray() = default;
  explicit MappedArray(size_t capacity) { Reserve(capacity); }
  ~MappedArray() { Release(); }
  MappedArray(MappedArray&& other) noexcept { *this = std::move(other); }
  MappedArray& operator=(MappedArray&& other) noexcept {
    Release();
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    return *this;
  }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;

  // Room for `capacity` elements, zero-filled; false if it cannot be mapped. Drops the contents.
  bool Reserve(size_t capacity) {
    Release();
    if (capacity == 0) capacity = 1;
    void* memory = mmap(nullptr, capacity * sizeof(T), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) return false;
    data_ = static_cast<T*>(memory);
    capacity_ = capacity;
    return true;
  }
  // False when full.
  bool push_back(const T& value) {
    if (size_ == capacity_) return false;
    data_[size_++] = value;
    return true;
  }
  void resize(size_t size) { size_ = size < capacity_ ? size : capacity_; }
  void clear() { size_ = 0; }

  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }

 private:
  void Release() {
    if (data_ != nullptr) munmap(data_, capacity_ * sizeof(T));
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_MAPPED_ARRAY_H_
