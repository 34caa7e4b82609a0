// The one creation path of the hooks that create threads: pthread_create (hooks/threads.cc),
// thrd_create (hooks/c11_threads.cc: glibc routes it to its internal pthread function, past the
// pthread hook) and the pthread_create that dlsym(RTLD_NEXT) hands out (hooks/loader.cc). What it
// records is the lifecycle core's (core/lifecycle.h).
//
// Called from hooks only, on the program's threads; nothing here takes a lock user code can take.
#ifndef THREADLEAK_PRELOAD_HOOKS_THREAD_CREATION_H_
#define THREADLEAK_PRELOAD_HOOKS_THREAD_CREATION_H_

#include <pthread.h>

namespace threadleak {

enum class ThreadKind { kPosix, kC11 };

// pthread_create (kPosix) or thrd_create (kC11, `start_routine` is really a thrd_start_t and
// `attr` is null) with the thread's record complete before the child runs. Returns what libc's
// function returns, with errno as libc leaves it.
int CreateRecordedThread(pthread_t* thread, const pthread_attr_t* attr,
                         void* (*start_routine)(void*), void* argument, ThreadKind kind);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_HOOKS_THREAD_CREATION_H_
