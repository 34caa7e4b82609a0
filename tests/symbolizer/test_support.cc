#include "tests/symbolizer/test_support.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>

namespace symtest {

__attribute__((noipa)) uintptr_t CaptureReturnAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

std::string RealPath(const char* path) {
  std::unique_ptr<char, decltype(&std::free)> real(realpath(path, nullptr), &std::free);
  return real == nullptr ? std::string() : std::string(real.get());
}

bool IsLoaded(const char* path) {
  void* handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) dlclose(handle);
  return handle != nullptr;
}

}  // namespace symtest
