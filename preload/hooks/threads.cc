// Hooks for the thread lifecycle: creation through a start trampoline, join, detach. The C11
// entries (hooks_c11_threads.cc) share the creation and join bookkeeping (thread_creation.h).
// Thin extern "C" entries; what they record lives in registry.cc.
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <threads.h>
#include <unistd.h>

#include "preload/capture/creation_stack.h"
#include "preload/core/guard.h"
#include "preload/core/object_touches.h"
#include "preload/core/process_identity.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/runtime.h"
#include "preload/core/thread_creation.h"
#include "preload/core/wait_scope.h"
#include "preload/hooks/export.h"
#include "preload/test_frameworks/gtest_state.h"
#include "preload/triggers/monitor_thread.h"

namespace threadleak {
namespace {

// The child's first code, before the user's start routine: publishes what only the child knows.
void BeginChild(ThreadRecord* record) {
  record->tid.store(OwnTidFromDescriptor(), std::memory_order_release);
  t_record = record;
  // Published by the creator too, when pthread_create returns; this covers a join or detach
  // that races with that return.
  PublishHandle(record, pthread_self());
  pthread_setspecific(ThreadExitKey(), record);
}

// The record is complete before the user's start routine runs.
void* StartTrampoline(void* argument) {
  auto* record = static_cast<ThreadRecord*>(argument);
  BeginChild(record);
  return record->start_routine(record->start_arg);
}

// The same for a C11 thread, whose start routine returns an int (thrd_start_t): created through
// libc's thrd_create, so glibc keeps its own C11 bookkeeping (the int result thrd_join reads).
int C11StartTrampoline(void* argument) {
  auto* record = static_cast<ThreadRecord*>(argument);
  BeginChild(record);
  auto start = reinterpret_cast<thrd_start_t>(reinterpret_cast<void (*)()>(record->start_routine));
  return start(record->start_arg);
}

// The GoogleTest test the new thread belongs to: the one running now; when none runs, its
// creator's (a thread a test started still works for that test, whenever it creates one);
// otherwise none: a suite-level thread. The stack-based guess is the report's fallback.
void RecordTest(ThreadRecord* record) {
  const GoogleTestNow now = ReadGoogleTestNow();
  const ThreadRecord* creator = t_record;
  if (now.kind == GoogleTestNow::kTest) {
    record->test_source = TL_TEST_RUNNING;
    memcpy(record->test_name, now.name, TL_TEST_NAME_LEN);
  } else if (creator != nullptr && (creator->test_source == TL_TEST_RUNNING ||
                                    creator->test_source == TL_TEST_INHERITED)) {
    record->test_source = TL_TEST_INHERITED;
    memcpy(record->test_name, creator->test_name, TL_TEST_NAME_LEN);
  } else if (now.kind == GoogleTestNow::kNoTest) {
    record->test_source = TL_TEST_NONE;
  } else if (now.kind == GoogleTestNow::kNoTestUnconfirmed) {
    record->test_source = kTestNoneUnconfirmed;
  }
}

void RecordCreation(ThreadRecord* record, const pthread_attr_t* attr) {
  ToolScope scope;
  record->creation_depth =
      static_cast<uint32_t>(CaptureCreationStack(record->creation, TL_MAX_FRAMES));
  record->creator_tid = CurrentTid();  // cached: gettid() is a system call
  prctl(PR_GET_NAME, record->creator_name);
  RecordTest(record);
  int detach_state = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr && pthread_attr_getdetachstate(attr, &detach_state) == 0 &&
      detach_state == PTHREAD_CREATE_DETACHED) {
    record->lifecycle.fetch_or(kDetached, std::memory_order_relaxed);
  }
}

}  // namespace

// The record of `thread` for a join that succeeded. Looked up before the join when possible: a
// pthread_t may be reused by a new thread as soon as the join returns.
void MarkJoined(ThreadRecord* looked_up_before, pthread_t thread) {
  ThreadRecord* record = looked_up_before;
  if (record == nullptr) {
    record = FindRecord(thread);
    if (record == nullptr || !(record->lifecycle.load(std::memory_order_acquire) & kFinished)) {
      return;
    }
  }
  MarkLifecycle(record, kJoined);
}

ThreadRecord* RecordOf(pthread_t thread) {
  if (t_record != nullptr && pthread_equal(thread, pthread_self())) return t_record;
  return FindRecord(thread);
}

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
  ThreadRecord* record = AllocateRecord();
  if (record == nullptr) {
    errno = saved_errno;
    return create_untracked();
  }
  record->creation_sequence = g_creation_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  record->start_routine = start_routine;
  record->start_arg = argument;
  RecordCreation(record, attr);
  NoteProgramThreadStarted();  // before it runs: it may end before this call returns
  errno = saved_errno;
  // Both report failure as non-zero (an errno value; thrd_error or thrd_nomem).
  int result = kind == ThreadKind::kC11
                   ? real.thrd_create(thread, C11StartTrampoline, record)
                   : real.pthread_create(thread, attr, StartTrampoline, record);
  if (result != 0) {
    NoteProgramThreadNotStarted();
    ReleaseRecord(record);
    return result;
  }
  // The record outlives the thread until this point (kCreatorReturned), so a detach right after
  // this return finds it even if the thread has not run yet.
  PublishHandle(record, *thread);
  MarkLifecycle(record, kCreatorReturned);
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
  if (status == 0) MarkJoined(target, thread);
  return status;
}

THREADLEAK_EXPORT int pthread_tryjoin_np(pthread_t thread, void** result) {
  if (t_in_tool) return Real().pthread_tryjoin_np(thread, result);
  ThreadRecord* target = FindRecord(thread);
  int status = Real().pthread_tryjoin_np(thread, result);
  if (status == 0) MarkJoined(target, thread);
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
  if (status == 0) MarkJoined(target, thread);
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
  if (status == 0) MarkJoined(target, thread);
  return status;
}

// fork() runs the fork handlers (runtime.cc); _Fork (glibc 2.34) runs none, so the child would
// keep the registry of its parent's threads, and a lock a report held. (glibc's own fork calls
// its _Fork directly, never through this.)
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
  if (status == 0 && target != nullptr) MarkLifecycle(target, kDetached);
  return status;
}

// A thread that finds another running the once-function sleeps on the once control's futex until
// it is done, a wait the kernel shows. Each thread that enters before it is done touches the
// control (object_touches.h), so the waiter's verdict follows the initialiser's: "possibly"
// while the initialiser may still finish. Once done, it costs one load more.
THREADLEAK_EXPORT int pthread_once(pthread_once_t* once, void (*init)()) {
  if (!t_in_tool && !OnceDone(once)) NoteTouch(once);
  return Real().pthread_once(once, init);
}
