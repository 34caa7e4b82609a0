// Symbol names as people read them, for the symbolizer. Allocates; never fails: a name it cannot
// demangle comes back as it is.
#ifndef THREADLEAK_SYMBOLIZER_DEMANGLE_H_
#define THREADLEAK_SYMBOLIZER_DEMANGLE_H_

#include <string>
#include <unordered_map>

namespace threadleak::symbolizer_internal {

// "_ZN7symtest6Writer7processEv" -> "symtest::Writer::process()"; "getpid" -> "getpid".
// Drops an ELF symbol version: glibc's .symtab names "pthread_cond_wait@@GLIBC_2.3.2".
// GCC's clone suffixes survive as "[clone .cold]".
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
