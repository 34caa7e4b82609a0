// The registry's lock. Not a pthread mutex: the tool must never take a lock that the program's
// code (or libc on its behalf) can also take, and pthread_mutex_lock is one of our own hooks.
// Held only for a few list operations, never across a call that can block.
#ifndef THREADLEAK_PRELOAD_CORE_SPIN_LOCK_H_
#define THREADLEAK_PRELOAD_CORE_SPIN_LOCK_H_

#include <sched.h>

#include <atomic>

namespace threadleak {

class SpinLock {
 public:
  void Lock() {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins++ > 64)
          sched_yield();  // the holder may be descheduled; let it run
        else
          __builtin_ia32_pause();
      }
    }
  }
  bool TryLock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void Unlock() { locked_.store(false, std::memory_order_release); }
  // After fork the child has one thread; whoever held the lock in the parent is gone.
  void ResetAfterFork() { locked_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

class SpinLockGuard {
 public:
  explicit SpinLockGuard(SpinLock& lock) : lock_(lock) { lock_.Lock(); }
  ~SpinLockGuard() { lock_.Unlock(); }
  SpinLockGuard(const SpinLockGuard&) = delete;
  SpinLockGuard& operator=(const SpinLockGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_SPIN_LOCK_H_
