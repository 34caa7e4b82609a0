// Libraries dlclose()d while the process ran. A creation stack captured inside such a library
// holds pcs that may now belong to whatever got mapped there since; the report names them from
// the record kept here (path, build-id, load bias) instead.
#ifndef THREADLEAK_PRELOAD_CAPTURE_DEPARTED_MODULES_H_
#define THREADLEAK_PRELOAD_CAPTURE_DEPARTED_MODULES_H_

#include <cstddef>

#include "preload/core/snapshot.h"

namespace threadleak {

// Describes the library behind a dlopen() handle while it is still loaded. Not for signal
// handlers (takes the loader's lock).
bool DescribeLoadedModule(void* handle, tl_module* out);

// After dlclose(): keeps `module` if it really left the address space.
void RememberIfDeparted(const tl_module& module);

// Copies the remembered modules, oldest first, into out; returns how many.
size_t CopyDepartedModules(tl_module* out, size_t max);

// In a fork child: the thread that held the lock (a dlclose or a report) is not in the child.
void ResetDepartedModulesAfterFork();

inline constexpr size_t kMaxDepartedModules = 64;

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_DEPARTED_MODULES_H_
