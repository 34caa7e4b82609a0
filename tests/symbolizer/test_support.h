// Helpers shared by the symbolizer tests.
#ifndef THREADLEAK_TESTS_SYMBOLIZER_TEST_SUPPORT_H_
#define THREADLEAK_TESTS_SYMBOLIZER_TEST_SUPPORT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "symbolizer/symbolizer.h"

namespace symtest {

// Returns its own return address: a pc inside its caller, just after the call. noipa, so it is
// a real call that no optimization removes, and it never sees its caller's frame.
uintptr_t CaptureReturnAddress();

// The path as /proc/self/maps shows it (symlinks resolved); empty when it does not exist.
std::string RealPath(const char* path);

// The name test_dso.cc's exported function demangles to, in every build of that module.
inline constexpr char kTestDsoPublic[] = "dso_ns::Public(unsigned long (*)())";

// Whether the loader has the module at `path` loaded now (RTLD_NOLOAD: never loads it).
bool IsLoaded(const char* path);

}  // namespace symtest

namespace threadleak {

inline bool operator==(const SourceFrame& a, const SourceFrame& b) {
  return a.pc == b.pc && a.function == b.function && a.file == b.file && a.line == b.line &&
         a.module == b.module && a.module_offset == b.module_offset && a.build_id == b.build_id &&
         a.inlined == b.inlined && a.is_return_address == b.is_return_address;
}

// So that a failed expectation shows the frame, not its bytes.
inline void PrintTo(const SourceFrame& f, std::ostream* os) {
  *os << "{pc=0x" << std::hex << f.pc << std::dec << " function=\"" << f.function << "\" file=\""
      << f.file << "\" line=" << f.line << " module=\"" << f.module << "\" offset=0x" << std::hex
      << f.module_offset << std::dec << " build_id=" << f.build_id << (f.inlined ? " inlined" : "")
      << (f.is_return_address ? "" : " interrupted") << "}";
}

}  // namespace threadleak

#endif  // THREADLEAK_TESTS_SYMBOLIZER_TEST_SUPPORT_H_
