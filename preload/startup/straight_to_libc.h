// Calls that a hook would only pass on, bound past the shim, straight to libc's function.
//
// While the watchdog is off, the pthread_mutex_lock hook is one indirect jump to libc (a lock's
// wait is found from its stack: core/lock_waits.h) and the mtx_lock hook a test and a call. On a
// lock that takes a few nanoseconds that jump still showed: a preloaded library holding nothing
// but such a jump slowed the two-thread contended lock by 3-7 %, the same library binding the
// program straight to libc by 0-2 % (noise). So at start-up each object loaded with the program
// gets, in every GOT slot of these functions that holds the shim's hook (or would at its first
// call, by lazy binding), the function the hook would have called: the program's calls then take
// the path they take without the shim, and the slot holds what it holds without the shim.
//
// Not rebound: objects loaded later by dlopen (their calls take the hook's jump), slots holding
// another library's definition (an interposer preloaded before the shim keeps its calls), and
// function pointers stored in data. A slot in a read-only (RELRO) page is written between two
// mprotect calls; where mprotect is refused the slot keeps the hook.
#ifndef THREADLEAK_PRELOAD_STARTUP_STRAIGHT_TO_LIBC_H_
#define THREADLEAK_PRELOAD_STARTUP_STRAIGHT_TO_LIBC_H_

#include <cstdint>

namespace threadleak {

// A function whose hook only passes the call on: `hook` is the shim's own definition (not
// whatever a lookup of `name` finds first), `target` what the hook calls.
struct PassThroughHook {
  const char* name;
  uintptr_t hook;
  uintptr_t target;
};

// Rebinds every loaded object's GOT slots of `hooks` as described above. Returns the number of
// slots rewritten. Start-up only (dl_iterate_phdr, dlsym); errno is kept.
int BindStraightToLibc(const PassThroughHook* hooks, int count);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_STARTUP_STRAIGHT_TO_LIBC_H_
