// Hooks for C11 threads (<threads.h>). glibc 2.34+ implements thrd_create, thrd_join,
// thrd_detach, mtx_* and cnd_* in libc with direct calls to its internal pthread functions
// (thrd_create calls __pthread_create_2_1, mtx_lock ___pthread_mutex_lock, cnd_wait
// ___pthread_cond_wait: `gdb -batch -ex 'disassemble thrd_create' libc.so.6`), so the pthread
// hooks never see them. Each entry here gives them the same records, wait slots and object
// touches as its pthread twin.
//
// call_once (glibc's calls __pthread_once directly) is hooked as pthread_once is: a wait on
// another thread's initialiser is a futex wait the kernel shows, and the touch makes its
// verdict follow the initialiser's.
//
// Not hooked, because their pthread twins are not either: thrd_exit (the exit key sees the
// thread end, as for pthread_exit), mtx_trylock, mtx_unlock, thrd_sleep (an unhooked
// clock_nanosleep the kernel shows).
//
// Hot paths, as in hooks/waits.cc: no locks, no allocation, errno preserved.
#include <sys/single_threaded.h>
#include <threads.h>

#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/lock_waits.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/wait_scope.h"
#include "preload/hooks/export.h"
#include "preload/hooks/thread_creation.h"
#include "preload/hooks/wait_shapes.h"

using namespace threadleak;
using namespace threadleak::hook_shapes;

namespace {

// thrd_t is glibc's pthread_t (both unsigned long): the join and the registry use one key.
static_assert(sizeof(thrd_t) == sizeof(pthread_t));

}  // namespace

// --- threads ---------------------------------------------------------------------------------

THREADLEAK_EXPORT int thrd_create(thrd_t* thread, thrd_start_t start, void* argument) {
  // Stored as the record's start routine and cast back by the C11 trampoline (through void(*)(),
  // the type that says the cast is meant).
  auto routine = reinterpret_cast<void* (*)(void*)>(reinterpret_cast<void (*)()>(start));
  return CreateRecordedThread(thread, nullptr, routine, argument, ThreadKind::kC11);
}

THREADLEAK_EXPORT int thrd_join(thrd_t thread, int* result) {
  if (t_in_tool) return Real().thrd_join(thread, result);
  ThreadRecord* target = RecordOf(thread);
  int status;
  {
    WaitScope wait(TL_STATE_JOIN, reinterpret_cast<const void*>(thread), Real().thrd_join);
    status = Real().thrd_join(thread, result);
  }
  if (status == thrd_success) ThreadJoined(target, thread);
  return status;
}

THREADLEAK_EXPORT int thrd_detach(thrd_t thread) {
  if (t_in_tool) return Real().thrd_detach(thread);
  ThreadRecord* target = RecordOf(thread);
  int status = Real().thrd_detach(thread);
  if (status == thrd_success) ThreadDetached(target);
  return status;
}

// --- keys: as pthread_key_create (libc's tss_create makes a key without calling it) -------------

THREADLEAK_EXPORT int tss_create(tss_t* key, tss_dtor_t destructor) {
  tss_t made;  // noted before the program gets it, as pthread_key_create
  int status = Real().tss_create(&made, destructor);
  if (status == thrd_success) {
    NoteKeyCreated(made, destructor != nullptr);
    *key = made;
  }
  return status;
}

THREADLEAK_EXPORT void tss_delete(tss_t key) {
  NoteKeyDeleted(key);  // first, as pthread_key_delete
  Real().tss_delete(key);
}

// --- mutexes ---------------------------------------------------------------------------------

// As pthread_mutex_lock: a lock's wait is recognised from its stack (mtx_lock calls the same
// libc function), so nothing is recorded unless the watchdog needs the wait's start.
THREADLEAK_EXPORT int mtx_lock(mtx_t* mutex) {
  if (__libc_single_threaded || !LockWaitRecording()) return Real().mtx_lock(mutex);
  WaitScope wait(TL_STATE_MUTEX, mutex, Real().mtx_lock, WaitScope::Untimed{});
  return Real().mtx_lock(mutex);
}
extern "C" __attribute__((alias("mtx_lock"))) int threadleak_own_mtx_lock(mtx_t* mutex) noexcept;

THREADLEAK_EXPORT int mtx_timedlock(mtx_t* __restrict mutex,
                                    const struct timespec* __restrict deadline) {
  return Waiting(TL_STATE_MUTEX, mutex, Real().mtx_timedlock, mutex, deadline);
}

// --- condition variables ---------------------------------------------------------------------

THREADLEAK_EXPORT int cnd_wait(cnd_t* cond, mtx_t* mutex) {
  return WaitingForWake(TL_STATE_COND, cond, Real().cnd_wait, cond, mutex);
}

THREADLEAK_EXPORT int cnd_timedwait(cnd_t* __restrict cond, mtx_t* __restrict mutex,
                                    const struct timespec* __restrict deadline) {
  return WaitingForWake(TL_STATE_COND, cond, Real().cnd_timedwait, cond, mutex, deadline);
}

THREADLEAK_EXPORT int cnd_signal(cnd_t* cond) {
  return Waking<&RealFunctions::cnd_signal>(cond, cond);
}

THREADLEAK_EXPORT int cnd_broadcast(cnd_t* cond) {
  return Waking<&RealFunctions::cnd_broadcast>(cond, cond);
}

// --- call_once ---------------------------------------------------------------------------------

THREADLEAK_EXPORT void call_once(once_flag* flag, void (*function)()) {
  if (!t_in_tool && !OnceDone(&flag->__data)) NoteTouch(flag);
  Real().call_once(flag, function);
}
