// Calls that a hook would only pass on, bound past the shim, straight to libc's function.
//
// While the watchdog is off, the pthread_mutex_lock hook is one indirect jump to libc (a lock's
// wait is found from its stack: core/lock_waits.h) and the mtx_lock hook a test and a call. On a
// lock that takes a few nanoseconds that jump still showed: a preloaded library holding nothing
// but such a jump slowed the two-thread contended lock by 3-7 %, the same library binding the
// program straight to libc by 0-2 % (noise). So at start-up each object loaded with the program
// gets, in every PLT slot (JUMP_SLOT) of these functions that holds the shim's hook — or, in the
// program itself, is still unbound and would be bound to it at its first call — the function the
// hook would have called: those calls then take the path they take without the shim.
//
// Only PLT slots, which serve calls alone: the function's address as the program sees it (a GOT
// slot of `&pthread_mutex_lock`, a pointer in data, dlsym's answer, a library loaded later) stays
// the hook's everywhere, so two addresses of one function still compare equal. Not rebound:
// calls through such an address (code built with -fno-plt calls through the GOT), a library's
// slots still unbound at start-up (nothing public tells whether a library binds in the global
// scope first: one opened with RTLD_DEEPBIND by an earlier constructor does not), libraries
// loaded later by dlopen, and slots holding anything else (an interposer preloaded before the
// shim, a library's own PLT hook). Nothing at all is rebound while the loader holds another
// namespace (an auditor's — LD_AUDIT, DT_AUDIT, `ld.so --audit` — sees every call through an
// unbound slot; before glibc 2.35 nothing tells, so nothing is rebound there) or under a seccomp
// filter (it may kill the process for process_vm_writev or mprotect, which rebinding calls);
// unbound slots are not under LD_BIND_NOT. A slot in a read-only page (RELRO) is written between
// two mprotect calls; where mprotect is refused it keeps the hook. x86-64 only (an unbound slot is
// recognised by its PLT stub).
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

// Rebinds every loaded object's PLT slots of `hooks` as described above; nothing unless
// `seccomp_mode` (SeccompMode(), read once at start-up) is 0. Returns the number of slots
// rewritten. Start-up only (dl_iterate_phdr, dlsym, getenv); errno is kept.
int BindStraightToLibc(const PassThroughHook* hooks, int count, int seccomp_mode);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_STARTUP_STRAIGHT_TO_LIBC_H_
