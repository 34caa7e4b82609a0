// Hooks for the thread lifecycle: creation through a start trampoline, join, detach. The C11
// entries (hooks/c11_threads.cc) share the creation path (thread_creation.h). Thin extern "C"
// entries: they call libc's function and tell the lifecycle core (core/lifecycle.h) what
// happened.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/runtime.h"
#include "preload/core/wait_scope.h"
#include "preload/hooks/export.h"
#include "preload/hooks/thread_creation.h"
#include "preload/startup/startup.h"
#include "preload/triggers/monitor_thread.h"

namespace threadleak {

// One path for pthread_create and thrd_create: the record (creation stack, creator, detach
// state) exists before the child runs, and the child starts in the matching trampoline.
int CreateRecordedThread(pthread_t* thread, const pthread_attr_t* attr,
                         void* (*start_routine)(void*), void* argument, ThreadKind kind) {
  const RealFunctions& real = Real();
  auto create_untracked = [&] {
    if (kind == ThreadKind::kC11) {
      auto start = reinterpret_cast<thrd_start_t>(reinterpret_cast<void (*)()>(start_routine));
      return real.thrd_create(thread, start, argument);
    }
    return real.pthread_create(thread, attr, start_routine, argument);
  };
  if (t_in_tool) return create_untracked();
  EnsureRuntimeInitialized();
  if (RuntimeInert()) return create_untracked();
  // The program's errno as it was: the tool's own work below (starting the monitor thread,
  // reading GoogleTest's state) may leave another value, and errno after the call must be only
  // what libc's pthread_create leaves.
  const int saved_errno = errno;
  StartMonitorIfNeeded();  // after fork the child starts its own on its first new thread
  ThreadRecord* record = RecordBeforeCreate(attr, start_routine, argument);
  errno = saved_errno;
  if (record == nullptr) return create_untracked();
  // Both report failure as non-zero (an errno value; thrd_error or thrd_nomem).
  int result = kind == ThreadKind::kC11
                   ? real.thrd_create(thread, C11StartTrampoline, record)
                   : real.pthread_create(thread, attr, StartTrampoline, record);
  if (result != 0) {
    ThreadCreateFailed(record);
    return result;
  }
  ThreadCreatorReturned(record, *thread);
  return result;
}

}  // namespace threadleak

using namespace threadleak;

THREADLEAK_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                     void* (*start_routine)(void*), void* argument) {
  return CreateRecordedThread(thread, attr, start_routine, argument, ThreadKind::kPosix);
}

THREADLEAK_EXPORT int pthread_join(pthread_t thread, void** result) {
  if (t_in_tool) return Real().pthread_join(thread, result);
  ThreadRecord* target = FindRecord(thread);
  int status;
  {
    WaitScope wait(TL_STATE_JOIN, reinterpret_cast<const void*>(thread), Real().pthread_join);
    status = Real().pthread_join(thread, result);
  }
  if (status == 0) ThreadJoined(target, thread);
  return status;
}

THREADLEAK_EXPORT int pthread_tryjoin_np(pthread_t thread, void** result) {
  if (t_in_tool) return Real().pthread_tryjoin_np(thread, result);
  ThreadRecord* target = FindRecord(thread);
  int status = Real().pthread_tryjoin_np(thread, result);
  if (status == 0) ThreadJoined(target, thread);
  return status;
}

THREADLEAK_EXPORT int pthread_timedjoin_np(pthread_t thread, void** result,
                                           const struct timespec* deadline) {
  if (t_in_tool) return Real().pthread_timedjoin_np(thread, result, deadline);
  ThreadRecord* target = FindRecord(thread);
  int status;
  {
    WaitScope wait(TL_STATE_JOIN, reinterpret_cast<const void*>(thread),
                   Real().pthread_timedjoin_np);
    status = Real().pthread_timedjoin_np(thread, result, deadline);
  }
  if (status == 0) ThreadJoined(target, thread);
  return status;
}

THREADLEAK_EXPORT int pthread_clockjoin_np(pthread_t thread, void** result, clockid_t clock,
                                           const struct timespec* deadline) {
  if (t_in_tool) return Real().pthread_clockjoin_np(thread, result, clock, deadline);
  ThreadRecord* target = FindRecord(thread);
  int status;
  {
    WaitScope wait(TL_STATE_JOIN, reinterpret_cast<const void*>(thread),
                   Real().pthread_clockjoin_np);
    status = Real().pthread_clockjoin_np(thread, result, clock, deadline);
  }
  if (status == 0) ThreadJoined(target, thread);
  return status;
}

// Names: a report reads a creator's and a finished thread's name from what the thread last read
// itself, read again after any rename (core/lifecycle.h). Noted whether or not libc reports
// success: a note costs a second read of a name, never a wrong one.
THREADLEAK_EXPORT int pthread_setname_np(pthread_t thread, const char* name) {
  int status = Real().pthread_setname_np(thread, name);
  NoteThreadsRenamed();
  return status;
}

// fork() runs the fork handlers (startup/startup.cc); _Fork (glibc 2.34) runs none, so the child
// would keep the registry of its parent's threads, and a lock a report held. (glibc's own fork
// calls its _Fork directly, never through this.)
THREADLEAK_EXPORT pid_t _Fork(void) noexcept {
  if (Real()._Fork == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return ForkWithoutHandlers(Real()._Fork);
}

THREADLEAK_EXPORT int pthread_detach(pthread_t thread) {
  if (t_in_tool) return Real().pthread_detach(thread);
  ThreadRecord* target = RecordOf(thread);
  int status = Real().pthread_detach(thread);
  if (status == 0) ThreadDetached(target);
  return status;
}

// Keys: where the program's key destructors stand against the exit key's (core/lifecycle.h).
// The key is noted before the program gets it, so no thread can set it and end before the note.
// __pthread_key_create is the same function under the name older code and libraries that test
// for libpthread call.
namespace {
int CreateNotedKey(int (*create)(pthread_key_t*, void (*)(void*)), pthread_key_t* key,
                   void (*destructor)(void*)) {
  pthread_key_t made;
  int status = create(&made, destructor);
  if (status == 0) {
    NoteKeyCreated(made, destructor != nullptr);
    *key = made;
  }
  return status;
}
}  // namespace

THREADLEAK_EXPORT int pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return CreateNotedKey(Real().pthread_key_create, key, destructor);
}

THREADLEAK_EXPORT int __pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return CreateNotedKey(Real().__pthread_key_create, key, destructor);
}

// Forgotten first: once libc has deleted it, another thread may be given the same index. (A
// thread ending meanwhile with a value for it may end its exit key's rounds one early.)
THREADLEAK_EXPORT int pthread_key_delete(pthread_key_t key) {
  NoteKeyDeleted(key);
  return Real().pthread_key_delete(key);
}

// A thread that finds another running the once-function sleeps on the once control's futex until
// it is done, a wait the kernel shows. Each thread that enters before it is done touches the
// control (object_touches.h), so the waiter's verdict follows the initialiser's: "possibly"
// while the initialiser may still finish. Once done, it costs one load more.
THREADLEAK_EXPORT int pthread_once(pthread_once_t* once, void (*init)()) {
  if (!t_in_tool && !OnceDone(once)) NoteTouch(once);
  return Real().pthread_once(once, init);
}
