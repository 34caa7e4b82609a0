// Which threads have touched a synchronisation object — signalled or broadcast a condition
// variable, posted a semaphore, woken a futex, or blocked on one of them — so a report can say
// whether any live thread could still wake a waiter (issue 5: "definitely leaked").
//
// Recorded only on the signal/post/wake side and on the slow (blocking) side of waits, never
// on an uncontended lock. Lock-free, allocation-free, async-signal-safe. Entries are never
// removed: an object freed and reused keeps old touches, which can only turn a "definitely"
// into a "possibly" — never the other way.
#ifndef THREADLEAK_PRELOAD_CORE_OBJECT_TOUCHES_H_
#define THREADLEAK_PRELOAD_CORE_OBJECT_TOUCHES_H_

#include <cstddef>
#include <cstdint>

namespace threadleak {

inline constexpr size_t kTouchersPerObject = 4;

// The two objects the calling thread noted last: signalling or waiting on the same objects again
// and again (a task queue's condvar, a ping-pong's pair of semaphores) then costs two compares,
// inlined into the hook. Exact, since table entries are never removed.
inline constinit thread_local const void* t_last_noted[2]
    __attribute__((tls_model("initial-exec"))) = {};

// NoteTouch past the two last objects.
void NoteTouchInTable(const void* object);

// Whether `object` is one of the two the calling thread noted last (and so noted for good).
inline bool NotedLast(const void* object) {
  return object == t_last_noted[0] || object == t_last_noted[1];
}

// Notes that the calling thread touched `object`.
inline void NoteTouch(const void* object) {
  if (!NotedLast(object)) NoteTouchInTable(object);
}

struct Touchers {
  int32_t tids[kTouchersPerObject] = {};
  size_t count = 0;
  bool overflow = false;  // more threads than fit, or the table had no room for the object
};

Touchers TouchersOf(const void* object);

// Whether a pthread_once_t (or C11 once_flag) says its once-function has run: glibc's
// __PTHREAD_ONCE_DONE bit, read as pthread_once's own fast path reads it.
inline bool OnceDone(const int* once) {
  return (__atomic_load_n(once, __ATOMIC_ACQUIRE) & 2) != 0;
}

// The calling thread's tid, cached (gettid() is a system call).
int32_t CurrentTid();

// fork(): the surviving thread has a new tid.
void ResetCurrentTidAfterFork();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_OBJECT_TOUCHES_H_
