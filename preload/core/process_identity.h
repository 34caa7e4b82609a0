// The calling process's pid and a new thread's tid without a system call on the paths that ask
// for them on every thread creation.
//
// The pid is kept in a page the kernel empties in every child that does not share our memory
// (MADV_WIPEONFORK): fork, _Fork, and a raw clone() alike, none of which has to run a handler of
// ours, so a child never takes its parent's pid for its own. Where the kernel refuses the advice
// (before Linux 4.14) every call asks the kernel.
#ifndef THREADLEAK_PRELOAD_CORE_PROCESS_IDENTITY_H_
#define THREADLEAK_PRELOAD_CORE_PROCESS_IDENTITY_H_

#include <sys/types.h>

#include <cstdint>

namespace threadleak {

// getpid(), cached per process. Async-signal-safe once the first call returned.
pid_t CurrentPid();

// The calling thread's tid as glibc's thread descriptor holds it (the kernel writes it there
// when it creates the thread), or gettid() when that field's place could not be confirmed on
// this glibc. For a thread's first code: a fork child's surviving thread asks gettid().
int32_t OwnTidFromDescriptor();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_PROCESS_IDENTITY_H_
