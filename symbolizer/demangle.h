// Symbol names as people read them, for the symbolizer: C++ (Itanium ABI) and Rust (legacy and
// v0 manglings), demangled with libiberty's demanglers — the ones binutils' c++filt, addr2line and
// GDB use. Allocates; never fails: a name it cannot demangle comes back as it is (without its
// symbol version). Thread-safe.
#ifndef THREADLEAK_SYMBOLIZER_DEMANGLE_H_
#define THREADLEAK_SYMBOLIZER_DEMANGLE_H_

#include <string>
#include <unordered_map>

namespace threadleak::symbolizer_internal {

// "_ZN7symtest6Writer7processEv" -> "symtest::Writer::process()"; "getpid" -> "getpid".
// Rust: "_ZN4leak17Consumer$LT$T$GT$3run17h0123456789abcdefE" -> "leak::Consumer<T>::run" (no
// "$LT$" escapes, no "::h<hash>"); "_RNvMCs3nG5cQELmqU_4leakINtB2_8ConsumerlE3runB2_" ->
// "<leak::Consumer<i32>>::run" (no crate hashes).
// Drops an ELF symbol version: glibc's .symtab names "pthread_cond_wait@@GLIBC_2.3.2".
// GCC's clone suffixes survive as c++filt shows them, "foo() [clone .cold]"; LLVM's ".llvm.NNNN"
// (ThinLTO's mark on a promoted local symbol) is dropped. Any other ".suffix" the demanglers
// reject does not stop demangling either: what precedes it is demangled, the suffix shown as a
// clone's.
std::string Demangle(const char* name);

// "pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait"; nothing else changes.
std::string WithoutVersion(const char* name);

// Names as a frame shows them (demangled, or only without their version), each computed once.
// Keyed by the address of the name: libdwfl's string tables stay where they are for the life of
// the module, and a C++ template's name can take tens of microseconds to demangle. Not
// thread-safe.
class NameCache {
 public:
  explicit NameCache(bool demangle) : demangle_(demangle) {}
  const std::string& Get(const char* name);

 private:
  const bool demangle_;
  std::unordered_map<const char*, std::string> names_;
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_DEMANGLE_H_
