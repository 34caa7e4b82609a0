// Symbol names as people read them, for the symbolizer. Allocates; never fails: a name it cannot
// demangle comes back as it is.
#ifndef THREADLEAK_SYMBOLIZER_DEMANGLE_H_
#define THREADLEAK_SYMBOLIZER_DEMANGLE_H_

#include <string>

namespace threadleak::symbolizer_internal {

// "_ZN7symtest6Writer7processEv" -> "symtest::Writer::process()"; "getpid" -> "getpid".
// Drops an ELF symbol version: glibc's .symtab names "pthread_cond_wait@@GLIBC_2.3.2".
// GCC's clone suffixes survive as "[clone .cold]".
std::string Demangle(const char* name);

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_DEMANGLE_H_
