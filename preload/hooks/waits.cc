// Hooks for blocking waits. Each fills the caller's wait slot, calls libc, and clears the slot.
// pthread_mutex_lock records nothing unless the watchdog needs it: its hook is one indirect jump,
// and the program's calls are bound past it to libc at start-up (startup/straight_to_libc.h).
//
// Everything here runs on the program's hot paths: no locks, no allocation, errno preserved.
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/lock_waits.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/runtime.h"
#include "preload/core/wait_scope.h"
#include "preload/hooks/export.h"
#include "preload/hooks/wait_shapes.h"

using namespace threadleak;
using namespace threadleak::hook_shapes;

namespace {

bool IsFutexWake(long op) {
  switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAKE:
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_WAKE_OP:
    case FUTEX_WAKE_BITSET:
    case FUTEX_UNLOCK_PI:
    case FUTEX_CMP_REQUEUE_PI:
      return true;
    default:
      return false;
  }
}

bool IsFutexWait(long op) {
  switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_WAIT_REQUEUE_PI:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return true;
    default:
      return false;
  }
}

}  // namespace

// --- mutexes ---------------------------------------------------------------------------------

namespace {

// Whether pthread_mutex_lock records its waits (only for the watchdog: SetLockWaitRecording).
constinit bool g_record_lock_waits = false;

using MutexLockFn = int (*)(pthread_mutex_t*);
// Where the hook jumps: to libc's pthread_mutex_lock itself, or to LockRecorded while the
// watchdog needs each wait's start. One pointer, so that the hook is one indirect jump: an
// uncontended lock takes about 7 ns, and each test on its path showed. Resolved on the first
// lock, or by SetLockWaitRecording at start-up, whichever comes first.
int ResolveAndLock(pthread_mutex_t* mutex);
constinit MutexLockFn g_mutex_lock_target = ResolveAndLock;

// Recorded before the call whether or not it will block: three stores into this thread's own
// record. A trylock first costs as much as the lock itself (and puts a locked instruction where
// a single-threaded process has none); even reading the lock word, or a clock, slows an
// uncontended lock by 10-20% (bench/README.md). While the process has one thread no report can
// run during a wait, and glibc's single-thread lock is a plain store: nothing is recorded then.
int LockRecorded(pthread_mutex_t* mutex) {
  MutexLockFn real = Real().pthread_mutex_lock;
  if (__libc_single_threaded) return real(mutex);
  WaitScope wait(TL_STATE_MUTEX, mutex, real, WaitScope::Untimed{});
  return real(mutex);
}

MutexLockFn LockTarget(MutexLockFn real) {
  return __atomic_load_n(&g_record_lock_waits, __ATOMIC_RELAXED) ? LockRecorded : real;
}

int ResolveAndLock(pthread_mutex_t* mutex) {
  MutexLockFn real = Real().pthread_mutex_lock;
  // Only if start-up has not pointed the hook already (it may have, from another thread).
  MutexLockFn unresolved = ResolveAndLock;
  __atomic_compare_exchange_n(&g_mutex_lock_target, &unresolved, LockTarget(real), false,
                              __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return __atomic_load_n(&g_mutex_lock_target, __ATOMIC_RELAXED)(mutex);
}

}  // namespace

THREADLEAK_EXPORT int pthread_mutex_lock(pthread_mutex_t* mutex) {
  // A lock's wait is found without this hook: the waiting thread sleeps in a futex system call
  // on the mutex, called from libc's pthread_mutex_lock, which the report unwinds from the
  // kernel's view and recognises (thread_collector.cc). So the lock goes straight to libc
  // unless the watchdog needs the wait recorded (its start, seen without /proc): one load and
  // a jump, no frame.
  return __atomic_load_n(&g_mutex_lock_target, __ATOMIC_RELAXED)(mutex);
}
extern "C" __attribute__((alias("pthread_mutex_lock"), nonnull)) int
threadleak_own_pthread_mutex_lock(pthread_mutex_t* mutex) noexcept;

THREADLEAK_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* mutex,
                                              const struct timespec* deadline) {
  return Waiting(TL_STATE_MUTEX, mutex, Real().pthread_mutex_timedlock, mutex, deadline);
}

THREADLEAK_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* mutex, clockid_t clock,
                                              const struct timespec* deadline) {
  return Waiting(TL_STATE_MUTEX, mutex, Real().pthread_mutex_clocklock, mutex, clock, deadline);
}

// --- condition variables ---------------------------------------------------------------------
// glibc has two incompatible condvar ABIs. Each version of our hook forwards to the same version
// in libc; the version script (libthreadleak.map) exports both.

extern "C" __attribute__((visibility("default"))) int threadleak_cond_wait(pthread_cond_t* cond,
                                                                           pthread_mutex_t* mutex) {
  return WaitingForWake(TL_STATE_COND, cond, Real().pthread_cond_wait, cond, mutex);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_timedwait(
    pthread_cond_t* cond, pthread_mutex_t* mutex, const struct timespec* deadline) {
  return WaitingForWake(TL_STATE_COND, cond, Real().pthread_cond_timedwait, cond, mutex, deadline);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_wait_2_2_5(
    pthread_cond_t* cond, pthread_mutex_t* mutex) {
  return WaitingForWake(TL_STATE_COND, cond, Real().pthread_cond_wait_2_2_5, cond, mutex);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_timedwait_2_2_5(
    pthread_cond_t* cond, pthread_mutex_t* mutex, const struct timespec* deadline) {
  return WaitingForWake(TL_STATE_COND, cond, Real().pthread_cond_timedwait_2_2_5, cond, mutex,
                        deadline);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_signal(pthread_cond_t* cond) {
  return Waking<&RealFunctions::pthread_cond_signal>(cond, cond);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_broadcast(
    pthread_cond_t* cond) {
  return Waking<&RealFunctions::pthread_cond_broadcast>(cond, cond);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_signal_2_2_5(
    pthread_cond_t* cond) {
  return Waking<&RealFunctions::pthread_cond_signal_2_2_5>(cond, cond);
}
extern "C" __attribute__((visibility("default"))) int threadleak_cond_broadcast_2_2_5(
    pthread_cond_t* cond) {
  return Waking<&RealFunctions::pthread_cond_broadcast_2_2_5>(cond, cond);
}
__asm__(".symver threadleak_cond_wait, pthread_cond_wait@@GLIBC_2.3.2");
__asm__(".symver threadleak_cond_timedwait, pthread_cond_timedwait@@GLIBC_2.3.2");
__asm__(".symver threadleak_cond_wait_2_2_5, pthread_cond_wait@GLIBC_2.2.5");
__asm__(".symver threadleak_cond_timedwait_2_2_5, pthread_cond_timedwait@GLIBC_2.2.5");
__asm__(".symver threadleak_cond_signal, pthread_cond_signal@@GLIBC_2.3.2");
__asm__(".symver threadleak_cond_broadcast, pthread_cond_broadcast@@GLIBC_2.3.2");
__asm__(".symver threadleak_cond_signal_2_2_5, pthread_cond_signal@GLIBC_2.2.5");
__asm__(".symver threadleak_cond_broadcast_2_2_5, pthread_cond_broadcast@GLIBC_2.2.5");

THREADLEAK_EXPORT int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                                             clockid_t clock, const struct timespec* deadline) {
  return WaitingForWake(TL_STATE_COND, cond, Real().pthread_cond_clockwait, cond, mutex, clock,
                        deadline);
}

// --- reader-writer locks ---------------------------------------------------------------------

THREADLEAK_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* lock) {
  const RealFunctions& real = Real();
  int result = real.pthread_rwlock_tryrdlock(lock);
  if (result != EBUSY) return result;
  return Waiting(TL_STATE_RWLOCK, lock, real.pthread_rwlock_rdlock, lock);
}

THREADLEAK_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* lock) {
  const RealFunctions& real = Real();
  int result = real.pthread_rwlock_trywrlock(lock);
  if (result != EBUSY) return result;
  return Waiting(TL_STATE_RWLOCK, lock, real.pthread_rwlock_wrlock, lock);
}

THREADLEAK_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* lock,
                                                 const struct timespec* deadline) {
  return Waiting(TL_STATE_RWLOCK, lock, Real().pthread_rwlock_timedrdlock, lock, deadline);
}

THREADLEAK_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* lock,
                                                 const struct timespec* deadline) {
  return Waiting(TL_STATE_RWLOCK, lock, Real().pthread_rwlock_timedwrlock, lock, deadline);
}

THREADLEAK_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* lock, clockid_t clock,
                                                 const struct timespec* deadline) {
  return Waiting(TL_STATE_RWLOCK, lock, Real().pthread_rwlock_clockrdlock, lock, clock, deadline);
}

THREADLEAK_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* lock, clockid_t clock,
                                                 const struct timespec* deadline) {
  return Waiting(TL_STATE_RWLOCK, lock, Real().pthread_rwlock_clockwrlock, lock, clock, deadline);
}

// --- semaphores and barriers -----------------------------------------------------------------

// Recorded whether or not it blocks, as a condvar wait: a few stores into the thread's own
// record cost less than a sem_trywait first (a call, errno kept around it) and nothing the
// program can see. A wait that does not block is over before any report could read it.
THREADLEAK_EXPORT int sem_wait(sem_t* semaphore) {
  return WaitingForWake(TL_STATE_SEM, semaphore, Real().sem_wait, semaphore);
}

THREADLEAK_EXPORT int sem_post(sem_t* semaphore) {
  return Waking<&RealFunctions::sem_post>(semaphore, semaphore);
}

THREADLEAK_EXPORT int sem_timedwait(sem_t* semaphore, const struct timespec* deadline) {
  return WaitingForWake(TL_STATE_SEM, semaphore, Real().sem_timedwait, semaphore, deadline);
}

THREADLEAK_EXPORT int sem_clockwait(sem_t* semaphore, clockid_t clock,
                                    const struct timespec* deadline) {
  return WaitingForWake(TL_STATE_SEM, semaphore, Real().sem_clockwait, semaphore, clock, deadline);
}

THREADLEAK_EXPORT int pthread_barrier_wait(pthread_barrier_t* barrier) {
  return Waiting(TL_STATE_BARRIER, barrier, Real().pthread_barrier_wait, barrier);
}

// --- futexes: libstdc++'s futures, atomic waits, latches, semaphores and barriers -----------

// syscall() is variadic, but its arguments are integers, which the x86-64 calling convention
// passes to a variadic and a fixed-argument function alike (six registers, then the stack). So
// the hook is defined under the name "syscall" with the number and the first five arguments as
// parameters, and reads the sixth from the stack, as glibc's own syscall() does — where a caller
// that passed fewer has its own data. Only reads it: a seventh declared parameter would be the
// hook's to write (GCC does, before a tail call), and that word is the caller's. The variadic
// prologue (va_start's register save area, va_arg's checks) cost about 60 instructions a call, a
// third of the hook's cost on a futex ping-pong.
static_assert(sizeof(long) == 8 && sizeof(void*) == 8, "x86-64: syscall's arguments are longs");
#if !defined(__x86_64__)
#error "the fixed-argument syscall hook relies on the x86-64 calling convention"
#endif
THREADLEAK_EXPORT long SyscallHook(long number, long a1, long a2, long a3, long a4,
                                   long a5) __asm__("syscall");
THREADLEAK_EXPORT long SyscallHook(long number, long a1, long a2, long a3, long a4, long a5) {
  // Above the saved frame pointer and the return address: the first argument passed on the stack.
  const long a6 = *reinterpret_cast<const volatile long*>(
      static_cast<const char*>(__builtin_frame_address(0)) + 2 * sizeof(void*));
  const RealFunctions& real = Real();
  if (number == SYS_futex && !t_in_tool) {
    auto* address = reinterpret_cast<const void*>(a1);
    // The operation is an int: the upper half of its register is whatever the caller left.
    const long operation = static_cast<int>(a2);
    if (IsFutexWait(operation)) {
      return WaitingForWake(TL_STATE_FUTEX, address, real.syscall, number, a1, a2, a3, a4, a5, a6);
    }
    if (IsFutexWake(operation)) {
      NoteTouch(address);
      long op = operation & FUTEX_CMD_MASK;
      if (op == FUTEX_REQUEUE || op == FUTEX_CMP_REQUEUE || op == FUTEX_WAKE_OP ||
          op == FUTEX_CMP_REQUEUE_PI) {
        NoteTouch(reinterpret_cast<const void*>(a5));  // the second futex (uaddr2)
      }
    }
  }
  if (number == SYS_futex_waitv) {
    WaitScope wait(TL_STATE_FUTEX, reinterpret_cast<const void*>(a1), real.syscall);
    return real.syscall(number, a1, a2, a3, a4, a5, a6);
  }
  if (number == SYS_futex) return real.syscall(number, a1, a2, a3, a4, a5, a6);  // a wake
  if (number == SYS_seccomp) {
    long result = real.syscall(number, a1, a2, a3, a4, a5, a6);
    if (result >= 0 && static_cast<int>(a1) == SECCOMP_SET_MODE_FILTER && !t_in_tool)
      NoteSeccompFilter();
    return result;
  }
  if (number == SYS_prctl) {  // as the prctl hook (hooks/process.cc)
    long result = real.syscall(number, a1, a2, a3, a4, a5, a6);
    if (static_cast<int>(a1) == PR_SET_NAME) NoteThreadsRenamed();
    if (result >= 0 && static_cast<int>(a1) == PR_SET_SECCOMP && !t_in_tool) NoteSeccompFilter();
    return result;
  }
  // Any other system call made through syscall() may block (io_getevents, a raw read): recorded
  // like the I/O hooks' waits, so a report unwinds it from here with the caller's frame pointer.
  WaitScope wait(TL_STATE_IO, nullptr, real.syscall, WaitScope::Untimed{});
  return real.syscall(number, a1, a2, a3, a4, a5, a6);
}

namespace threadleak {
namespace {

constinit uintptr_t g_mutex_lock_begin = 0;
constinit uintptr_t g_mutex_lock_end = 0;

}  // namespace

void SetLockWaitRecording(bool record) {
  __atomic_store_n(&g_record_lock_waits, record, __ATOMIC_RELAXED);
  __atomic_store_n(&g_mutex_lock_target, LockTarget(Real().pthread_mutex_lock), __ATOMIC_RELAXED);
}

bool LockWaitRecording() {
  return __atomic_load_n(&g_record_lock_waits, __ATOMIC_RELAXED);
}

void RememberMutexLockRange() {
  Dl_info info;
  ElfW(Sym)* symbol = nullptr;
  // libc's own, not the next definition after the shim: a sanitizer runtime's interceptor may
  // stand between them, and the futex wait returns into libc's.
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  void* lock = libc != nullptr ? dlsym(libc, "pthread_mutex_lock") : nullptr;
  if (libc != nullptr) dlclose(libc);
  if (lock == nullptr ||
      dladdr1(lock, &info, reinterpret_cast<void**>(&symbol), RTLD_DL_SYMENT) == 0 ||
      symbol == nullptr || symbol->st_size == 0) {
    return;
  }
  g_mutex_lock_begin = reinterpret_cast<uintptr_t>(info.dli_saddr);
  g_mutex_lock_end = g_mutex_lock_begin + symbol->st_size;
}

bool IsInMutexLock(uintptr_t pc) {
  return pc >= g_mutex_lock_begin && pc < g_mutex_lock_end;
}

}  // namespace threadleak
