// Fills the calling thread's wait slot for the duration of a blocking call. Plain atomic stores
// into the thread's own record: no lock, no allocation, no system call but a vDSO clock read.
#ifndef THREADLEAK_PRELOAD_CORE_WAIT_SCOPE_H_
#define THREADLEAK_PRELOAD_CORE_WAIT_SCOPE_H_

#include "preload/core/clock.h"
#include "preload/core/guard.h"
#include "preload/core/thread_record.h"

namespace threadleak {

// When a wait began, as a report can know it: the waiter's own clock read, or — for a wait
// recorded without one (kSinceUnknown: a lock's, an I/O call's) — the first time any reader saw
// it, which is later than the real start. Such a stamp is kept in the slot as -2 - stamp, so
// every later reader knows it for one.
struct WaitStart {
  int64_t ns;
  bool recorded;  // false: a reader's stamp, a lower bound of the wait's age
};

inline WaitStart WaitStartFromSlot(int64_t since_ns) {
  return since_ns >= 0 ? WaitStart{since_ns, true} : WaitStart{-2 - since_ns, false};
}

// The start of the wait in `record`, stamping it with `now_ns` if nobody has yet. The waiter
// resets it with its next wait.
inline WaitStart WaitStartSeenBy(const ThreadRecord& record, int64_t now_ns) {
  int64_t since = record.wait.since_ns.load(std::memory_order_relaxed);
  if (since != kSinceUnknown) return WaitStartFromSlot(since);
  auto& slot = const_cast<std::atomic<int64_t>&>(record.wait.since_ns);
  if (slot.compare_exchange_strong(since, -2 - now_ns, std::memory_order_relaxed)) {
    return {now_ns, false};
  }
  return WaitStartFromSlot(since);  // another reader's stamp, or a new wait's own start
}

// The watchdog's memory of the wait it last reported in `record` (by its start): each wait is
// reported once. The monitor thread's alone, through the registry's const view of records.
inline bool WatchdogReportedWait(const ThreadRecord& record, int64_t since_ns) {
  return record.watchdog_reported_since.load(std::memory_order_relaxed) == since_ns;
}
inline void NoteWatchdogReportedWait(const ThreadRecord& record, int64_t since_ns) {
  record.watchdog_reported_since.store(since_ns, std::memory_order_relaxed);
}

// A longjmp to the frame whose stack pointer is `target_sp` (0: not known) leaves the calling
// thread's wait if the hook that holds it is below that frame: its slot is closed, or a report
// would show the thread in that wait for ever after. Async-signal-safe: two loads and a store.
inline void EndWaitLeftByJump(uintptr_t target_sp) {
  ThreadRecord* record = t_record;
  if (record == nullptr) return;
  WaitSlot& slot = record->wait;
  const uint64_t word = slot.word.load(std::memory_order_relaxed);
  if (static_cast<uint32_t>(word) == kNotWaiting) return;
  if (target_sp == 0 || slot.frame.load(std::memory_order_relaxed) >= target_sp) return;
  slot.word.store((word & ~uint64_t{0xffff'ffff}) | kNotWaiting, std::memory_order_release);
}

// The frame address this returns is what a report unwinds from: the caller of a hook (and every
// frame above it) stays as it is while the thread waits, so the report reads it from another
// thread instead of interrupting this one (preload/report/blocked_stacks.h).
class WaitScope {
 public:
  // A lock's wait: no clock read (a vDSO clock costs as much as the uncontended lock itself),
  // and nothing read from the lock, which would slow its own locked instruction down. The start
  // is stamped by the first reader that sees the wait (WaitStartSeenBy).
  struct Untimed {};
  // `callee` is the libc function the hook calls: the innermost frame a report shows.
  template <typename Fn>
  __attribute__((always_inline)) WaitScope(uint32_t state, const void* object, Fn callee, Untimed) {
    Begin(state, object, reinterpret_cast<uintptr_t>(callee), /*timed=*/false);
  }
  template <typename Fn>
  __attribute__((always_inline)) WaitScope(uint32_t state, const void* object, Fn callee) {
    Begin(state, object, reinterpret_cast<uintptr_t>(callee), /*timed=*/true);
  }
  ~WaitScope() {
    if (record_ == nullptr) return;
    // The sequence is read back, not kept across the call: a wait nested in this one (a signal
    // handler's) has moved it on, and it must never go back.
    WaitSlot& slot = record_->wait;
    uint64_t sequence = slot.word.load(std::memory_order_relaxed) & ~uint64_t{0xffff'ffff};
    slot.word.store(sequence | kNotWaiting, std::memory_order_release);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  // Inlined into the hook with `timed` a constant: the untimed path has no clock read at all,
  // and __builtin_frame_address(0) is the hook's own frame (it gives the hook a frame pointer).
  __attribute__((always_inline)) void Begin(uint32_t state, const void* object, uintptr_t callee,
                                            bool timed) {
    ThreadRecord* record = t_in_tool ? nullptr : t_record;
    if (record == nullptr) return;
    // The innermost wait wins: a slot still held is an outer wait (a signal handler blocking
    // while the thread was in a hooked call: the handler's wait is where the thread is), or the
    // stale slot of a wait that a cancellation or a longjmp left without closing its scope.
    uint64_t word = record->wait.word.load(std::memory_order_relaxed);
    record_ = record;
    uint64_t sequence = (word | 0xffff'ffffu) + 1;  // the next sequence number, in the high half
    record->wait.object.store(reinterpret_cast<uintptr_t>(object), std::memory_order_relaxed);
    record->wait.since_ns.store(timed ? CoarseMonotonicNanos() : kSinceUnknown,
                                std::memory_order_relaxed);
    record->wait.frame.store(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)),
                             std::memory_order_relaxed);
    record->wait.callee.store(callee, std::memory_order_relaxed);
    record->wait.return_address.store(reinterpret_cast<uintptr_t>(__builtin_return_address(0)),
                                      std::memory_order_relaxed);
    // Release: a reader that sees this word sees the fields above as they were stored for it.
    record->wait.word.store(sequence | state, std::memory_order_release);
  }

  ThreadRecord* record_ = nullptr;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_WAIT_SCOPE_H_
