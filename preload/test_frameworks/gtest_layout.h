// What threadleak knows of GoogleTest's objects in memory, and the checks that tell whether two
// addresses really are a running TestSuite and TestInfo (gtest_state.h reads GoogleTest's
// current test with them when a thread is created).
//
// The layout, the same in every GoogleTest from 1.8 to 1.17 with libstdc++ (gtest.h):
//   TestInfo  (no vtable): std::string test_suite_name_ at 0, std::string name_ at 32, ...
//   TestSuite (vtable at 0): std::string name_ at 8, unique_ptr type_param_ at 40,
//             std::vector<TestInfo*> test_info_list_ at 48, ...
// Nothing here trusts it: every field is read through process_vm_readv (ReadProcessBytes, which
// never faults) and checked — sane strings, the suite's name equal to the test's suite name, the
// test in the suite's list — so another layout (another version, libc++'s strings) reads as "not
// a running test", and the caller falls back to what it did without.
//
// No allocation, no lock: usable in a pthread_create hook.
#ifndef THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_LAYOUT_H_
#define THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "preload/capture/process_memory.h"

namespace threadleak::gtest_layout {

inline constexpr size_t kTestInfoSuiteName = 0;
inline constexpr size_t kTestInfoName = 32;
inline constexpr size_t kTestSuiteName = 8;
inline constexpr size_t kTestSuiteTestInfos = 48;
// Longer names are not GoogleTest's (and would cost too much to compare in a hook).
inline constexpr uint64_t kMaxNameLength = 1024;
// A suite with more tests is not believed.
inline constexpr uint64_t kMaxTestsPerSuite = 1u << 20;

// A user-space address of x86-64 or AArch64 (47/48 bits), not in the first page.
inline bool LooksLikePointer(uintptr_t value) {
  return value >= 4096 && value < (uintptr_t{1} << 48);
}

// libstdc++'s std::string: where its bytes are, how many, then its local buffer or capacity.
struct StringHeader {
  uintptr_t data;
  uint64_t length;
  uint64_t local[2];
};
static_assert(sizeof(StringHeader) == 32);

// Reads the std::string at `address`; false when it does not look like a test or suite name.
inline bool ReadName(uintptr_t address, StringHeader* out) {
  return ReadProcessMemory(address, out) && LooksLikePointer(out->data) && out->length > 0 &&
         out->length <= kMaxNameLength;
}

// Whether the bytes of two strings of equal length are equal.
inline bool SameBytes(const StringHeader& a, const StringHeader& b) {
  if (a.length != b.length) return false;
  char left[128];
  char right[128];
  for (uint64_t done = 0; done < a.length;) {
    size_t chunk =
        static_cast<size_t>(a.length - done < sizeof(left) ? a.length - done : sizeof(left));
    if (ReadProcessBytes(a.data + done, left, chunk) != static_cast<ssize_t>(chunk)) return false;
    if (ReadProcessBytes(b.data + done, right, chunk) != static_cast<ssize_t>(chunk)) return false;
    if (memcmp(left, right, chunk) != 0) return false;
    done += chunk;
  }
  return true;
}

// Whether `test_info` is listed in the test_info_list_ of the suite at `test_suite`.
inline bool SuiteLists(uintptr_t test_suite, uintptr_t test_info) {
  uintptr_t range[2];  // begin, end
  if (!ReadProcessMemory(test_suite + kTestSuiteTestInfos, &range)) return false;
  if (!LooksLikePointer(range[0]) || range[1] < range[0] || (range[1] - range[0]) % 8 != 0 ||
      (range[1] - range[0]) / 8 > kMaxTestsPerSuite) {
    return false;
  }
  uintptr_t entries[64];
  for (uintptr_t at = range[0]; at < range[1];) {
    size_t count = (range[1] - at) / 8 < 64 ? (range[1] - at) / 8 : 64;
    if (ReadProcessBytes(at, entries, count * 8) != static_cast<ssize_t>(count * 8)) return false;
    for (size_t i = 0; i < count; ++i) {
      if (entries[i] == test_info) return true;
    }
    at += count * 8;
  }
  return false;
}

// Whether `test_suite` and `test_info` are a TestSuite and one of its TestInfos, as
// UnitTestImpl's current_test_suite_ and current_test_info_ hold them while a test runs.
inline bool IsSuiteAndTest(uintptr_t test_suite, uintptr_t test_info) {
  if (!LooksLikePointer(test_suite) || !LooksLikePointer(test_info) || test_suite % 8 != 0 ||
      test_info % 8 != 0) {
    return false;
  }
  StringHeader info_suite, info_name, suite_name;
  return ReadName(test_info + kTestInfoSuiteName, &info_suite) &&
         ReadName(test_info + kTestInfoName, &info_name) &&
         ReadName(test_suite + kTestSuiteName, &suite_name) && SameBytes(info_suite, suite_name) &&
         SuiteLists(test_suite, test_info);
}

// Writes "Suite.Name" of the TestInfo at `test_info` into `out` (`capacity` bytes, at least 8,
// NUL-terminated; a longer name is cut to fit and ends in "..."), as GoogleTest prints it
// ("Prefix/Suite.Name/0" for a parameterized test). False when the memory does not hold two
// printable names.
inline bool ReadTestName(uintptr_t test_info, char* out, size_t capacity) {
  static_assert(kTestInfoName == kTestInfoSuiteName + sizeof(StringHeader));
  StringHeader names[2];  // test_suite_name_, name_
  if (!ReadProcessMemory(test_info + kTestInfoSuiteName, &names)) return false;
  for (const StringHeader& name : names) {
    if (!LooksLikePointer(name.data) || name.length == 0 || name.length > kMaxNameLength) {
      return false;
    }
  }
  const size_t room = capacity - 1;
  size_t used = 0;
  for (size_t part = 0; part < 2 && used < room; ++part) {
    if (part == 1) out[used++] = '.';
    size_t take = names[part].length < room - used ? names[part].length : room - used;
    if (ReadProcessBytes(names[part].data, out + used, take) != static_cast<ssize_t>(take)) {
      return false;
    }
    used += take;
  }
  if (names[0].length + 1 + names[1].length > room) memcpy(out + room - 3, "...", 3);
  out[used] = '\0';
  for (size_t i = 0; i < used; ++i) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace threadleak::gtest_layout

#endif  // THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_LAYOUT_H_
