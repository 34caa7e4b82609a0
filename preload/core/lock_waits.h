// How a thread waiting for a mutex is seen without a hook on the lock's path: it sleeps in a
// futex system call on the mutex's address, called from libc's pthread_mutex_lock. A report
// unwinds it from the kernel's sp and pc (report/blocked_stacks.h) and, when a return address in
// its stack lies in that function, calls the wait a mutex wait (thread_collector.cc). Robust and
// priority-inheritance mutexes take another path in libc and stay futex waits.
#ifndef THREADLEAK_PRELOAD_CORE_LOCK_WAITS_H_
#define THREADLEAK_PRELOAD_CORE_LOCK_WAITS_H_

#include <pthread.h>
#include <threads.h>

#include <cstdint>

// The shim's own pthread_mutex_lock and mtx_lock hooks (hidden aliases): a reference to the
// exported names is itself interposed, and an interposer preloaded before the shim would be found.
extern "C" __attribute__((visibility("hidden"), nonnull)) int threadleak_own_pthread_mutex_lock(
    pthread_mutex_t* mutex) noexcept;
extern "C" __attribute__((visibility("hidden"))) int threadleak_own_mtx_lock(mtx_t* mutex) noexcept;

namespace threadleak {

// Whether the pthread_mutex_lock hook records waits in the wait slot: only the watchdog needs
// that (the start of each wait, checked without /proc). Set once at start-up; when false, the
// program's calls are then bound past the hooks to libc (startup/straight_to_libc.h).
void SetLockWaitRecording(bool record);

// Whether lock hooks record their waits (SetLockWaitRecording). One load.
bool LockWaitRecording();

// Looks up where libc's pthread_mutex_lock lies. At start-up: dladdr1 takes the loader's lock.
void RememberMutexLockRange();

// Whether `pc` lies in libc's pthread_mutex_lock. Async-signal-safe.
bool IsInMutexLock(uintptr_t pc);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_LOCK_WAITS_H_
