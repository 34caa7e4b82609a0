// Shared by the fuzz targets: a warning sink that checks every line it is given, and a check
// that traps (so libFuzzer, or the replay driver, reports the input) when an invariant breaks.
#ifndef THREADLEAK_TESTS_FUZZ_FUZZ_CHECKS_H_
#define THREADLEAK_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

namespace fuzz {

#define FUZZ_CHECK(condition)                                                                   \
  do {                                                                                          \
    if (!(condition)) {                                                                         \
      std::fprintf(stderr, "fuzz check failed: %s at %s:%d\n", #condition, __FILE__, __LINE__); \
      __builtin_trap();                                                                         \
    }                                                                                           \
  } while (0)

// The parsers' diagnostics are whole lines, NUL-terminated, bounded, with no newline inside
// and the tool's prefix.
struct LineSink {
  size_t lines = 0;
  const char* prefix = "threadleak: ";

  static void Take(const char* line, void* context) {
    auto* sink = static_cast<LineSink*>(context);
    FUZZ_CHECK(line != nullptr);
    const size_t length = strnlen(line, 4096);
    FUZZ_CHECK(length < 4096);
    FUZZ_CHECK(std::memchr(line, '\n', length) == nullptr);
    FUZZ_CHECK(std::strncmp(line, sink->prefix, std::strlen(sink->prefix)) == 0);
    ++sink->lines;
  }
};

// `bytes` as a C string, cut at the first NUL as the environment or a C API would cut it.
inline std::string AsCString(const unsigned char* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  text.resize(strnlen(text.c_str(), text.size()));
  return text;
}

// Whether a fixed char array holds a NUL-terminated string.
template <size_t N>
bool Terminated(const char (&text)[N]) {
  return std::memchr(text, '\0', N) != nullptr;
}

}  // namespace fuzz

#endif  // THREADLEAK_TESTS_FUZZ_FUZZ_CHECKS_H_
