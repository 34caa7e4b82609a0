// Thread creation and join bookkeeping shared by the POSIX hooks (hooks_thread.cc) and the C11
// ones (hooks_c11_threads.cc): glibc routes thrd_create, thrd_join and thrd_detach to its
// internal pthread functions, past the pthread hooks, so each family needs its own entries.
//
// Called from hooks only, on the program's threads; nothing here takes a lock user code can take.
#ifndef THREADLEAK_PRELOAD_CORE_THREAD_CREATION_H_
#define THREADLEAK_PRELOAD_CORE_THREAD_CREATION_H_

#include <pthread.h>

namespace threadleak {

struct ThreadRecord;

enum class ThreadKind { kPosix, kC11 };

// pthread_create (kPosix) or thrd_create (kC11, `start_routine` is really a thrd_start_t and
// `attr` is null) with the thread's record complete before the child runs. Returns what libc's
// function returns.
int CreateRecordedThread(pthread_t* thread, const pthread_attr_t* attr,
                         void* (*start_routine)(void*), void* argument, ThreadKind kind);

// Marks the thread of a join that succeeded as joined; `looked_up_before` is its record found
// before the join (a pthread_t may be reused as soon as the join returns), or null.
void MarkJoined(ThreadRecord* looked_up_before, pthread_t thread);

// The record of `thread`, or null (the calling thread's without a lookup).
ThreadRecord* RecordOf(pthread_t thread);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_THREAD_CREATION_H_
