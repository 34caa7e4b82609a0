// The thread lifecycle: everything the tool records about a program thread, from the creator's
// call to the release of its record. The hooks (hooks/threads.cc, hooks/c11_threads.cc,
// hooks/signals.cc) call the real libc function and tell this core what happened; start-up and
// fork (startup/startup.cc) call it for the main thread and the fork child. Nothing else writes
// a ThreadRecord, but for the wait slot, which the thread itself fills on its hot path
// (wait_scope.h).
//
// A record is released once nobody can ask about it any more (registry.h, MarkLifecycle): its
// thread has finished, was joined or detached, and its creator's pthread_create has returned.
//
// Linked into the unit tests as it is (tests/unit/lifecycle_test.cc), so nothing here calls into
// the shim's start-up or the report triggers: what those need to hear (the program's last thread
// ended) they register at start-up.
//
// Safe on hook paths: no allocation but the registry's own mapped chunks, no lock the program
// can take, errno left to the caller to keep. Not from a signal handler, but for NoteAltStack.
#ifndef THREADLEAK_PRELOAD_CORE_LIFECYCLE_H_
#define THREADLEAK_PRELOAD_CORE_LIFECYCLE_H_

#include <pthread.h>
#include <signal.h>

#include "preload/core/registry.h"
#include "preload/core/thread_record.h"

namespace threadleak {

// --- start-up --------------------------------------------------------------------------------

// Creates the exit key, whose destructor marks a thread finished (it runs on return,
// pthread_exit and cancellation). `last_thread_ended` runs when the program's last thread ends
// after main ended without exit() (pthread_exit, thrd_exit, cancellation): glibc then ends the
// process, and the tool must not keep it alive. Once per process, before the first thread.
void StartThreadLifecycle(void (*last_thread_ended)());

// The calling thread's record as the program's main thread (never joined, never detached: it is
// released only if it ends without exit()). Only on the main thread itself: a lazy start-up from
// another thread (a library's constructor creating one) records none.
void RegisterMainThread();

// --- creation: RecordBeforeCreate, then the real create with a trampoline below, then
// ThreadCreatorReturned or ThreadCreateFailed -------------------------------------------------

// A record complete before the thread runs: its creation sequence, creator (tid and name),
// creation stack, GoogleTest test and detach state (from `attr`, may be null), and the program
// thread counted. Null when no memory is left (the thread is then created untracked).
ThreadRecord* RecordBeforeCreate(const pthread_attr_t* attr, void* (*start_routine)(void*),
                                 void* argument);

// The child's first code, given the record as its argument: publishes what only the child knows
// (its tid, its handle, the exit key), then runs the start routine. The C11 one for thrd_create,
// whose start routine returns an int (thrd_start_t, stored cast to the POSIX type).
void* StartTrampoline(void* record);
int C11StartTrampoline(void* record);

// The real create failed: the thread never ran.
void ThreadCreateFailed(ThreadRecord* record);

// The real create returned `handle`: a join or detach from now on finds the record by it, and
// the record may be released once the thread is finished and joined or detached. (Inline, as
// ThreadJoined: both are on every create+join, whose cost is measured.)
inline void ThreadCreatorReturned(ThreadRecord* record, pthread_t handle) {
  // The record outlives the thread until this point (kCreatorReturned), so a detach right after
  // the creator's return finds it even if the thread has not run yet.
  PublishHandle(record, handle);
  MarkLifecycle(record, kCreatorReturned);
}

// --- join and detach -------------------------------------------------------------------------

// The record of `thread`, or null (the calling thread's without a lookup). Look it up before a
// join: a pthread_t may be reused by a new thread as soon as the join returns.
ThreadRecord* RecordOf(pthread_t thread);

// A join of `thread` succeeded. `looked_up_before` is its record found before the join, or null
// (then a record found now counts only if its thread has finished: an unfinished one belongs to
// a new thread that reused the pthread_t).
inline void ThreadJoined(ThreadRecord* looked_up_before, pthread_t thread) {
  ThreadRecord* record = looked_up_before;
  if (record == nullptr) {
    record = FindRecord(thread);
    if (record == nullptr || !(record->lifecycle.load(std::memory_order_acquire) & kFinished)) {
      return;
    }
  }
  MarkLifecycle(record, kJoined);
}

// A detach succeeded; `record` may be null (a thread the tool never saw created).
void ThreadDetached(ThreadRecord* record);

// --- keys ------------------------------------------------------------------------------------

// A key was made (pthread_key_create, __pthread_key_create, tss_create) or deleted: the exit
// key's destructor takes a second round only while a key with a destructor sits above it in
// glibc's order. For a key the tool never hears of (looked up past the hooks with dlsym on libc,
// or in another dlmopen namespace) a thread blocked in its destructor is marked finished before
// that destructor runs.
void NoteKeyCreated(pthread_key_t key, bool has_destructor);
void NoteKeyDeleted(pthread_key_t key);

// --- names -------------------------------------------------------------------------------------

// A thread of the process may have a new name: pthread_setname_np, prctl(PR_SET_NAME) or the raw
// system call returned. After the rename, never before: a name read before this call may be
// the old one, and is read again. Async-signal-safe (one atomic add). Renames the hooks never
// see — a write to /proc/.../comm, or libc's function called past the hooks (dlvsym, dlsym on a
// libc handle) — are not heard of: a creator's or a finished thread's name can then be the one it
// had before.
void NoteThreadsRenamed();

// --- the calling thread ----------------------------------------------------------------------

// sigaltstack succeeded with `stack`: its bounds, which the stack sampler's signal must not
// overflow. Async-signal-safe (sigaltstack is).
void NoteAltStack(const stack_t& stack);

// Program threads alive now, main included (1: the caller is alone but for the tool's own):
// main, and every thread created through the hooks from before it exists until its exit key's
// last round.
int ProgramThreadCount();

// --- fork ------------------------------------------------------------------------------------

// Around fork: the registry is held across it, so the child never inherits its lock held. In the
// child only the forking thread is left: every other record is dropped, and the forking thread's
// record (if it has one) is the child's main thread, with its new tid.
void LifecycleBeforeFork();
void LifecycleAfterForkInParent();
void LifecycleAfterForkInChild();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_LIFECYCLE_H_
