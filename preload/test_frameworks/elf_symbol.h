// Finding a data object of a loaded module by name in its ELF symbol table (.symtab: it holds the
// local symbols, such as a function's static object, that .dynsym never has), with system calls
// only. The file is mapped read-only and walked in place, every offset checked against its size.
//
// Safe inside a pthread_create hook whatever the program holds: no allocation, no lock, no call
// into the dynamic loader (dladdr, dlsym, dl_iterate_phdr take its lock). Not async-signal-safe
// only because nothing needs it to be. errno may change: callers in hooks save it.
#ifndef THREADLEAK_PRELOAD_TEST_FRAMEWORKS_ELF_SYMBOL_H_
#define THREADLEAK_PRELOAD_TEST_FRAMEWORKS_ELF_SYMBOL_H_

#include <cstdint>

namespace threadleak {

// The run-time address of the data object (STT_OBJECT) `name`, or `name` followed by a '.'
// suffix (LTO's ".lto_priv.0"), in the ELF file `path` whose first segment is mapped at
// `first_segment` (the start of its mapping at file offset 0). 0 when the file cannot be read,
// is not a 64-bit ELF file, has no .symtab (stripped), or has no such object.
uintptr_t FindDataSymbol(const char* path, uintptr_t first_segment, const char* name);

// FindDataSymbol in the main executable (read through /proc/self/exe, placed by AT_PHDR).
uintptr_t FindDataSymbolInExecutable(const char* name);

// FindDataSymbol in each module of this process whose file name contains `fragment` (from
// /proc/self/maps), until one has it; 0 when none does.
uintptr_t FindDataSymbolInModulesNamed(const char* fragment, const char* name);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TEST_FRAMEWORKS_ELF_SYMBOL_H_
