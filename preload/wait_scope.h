// Fills the calling thread's wait slot for the duration of a blocking call. Plain atomic stores
// into the thread's own record: no lock, no allocation, no system call but a vDSO clock read.
#ifndef THREADLEAK_PRELOAD_WAIT_SCOPE_H_
#define THREADLEAK_PRELOAD_WAIT_SCOPE_H_

#include "preload/clock.h"
#include "preload/guard.h"
#include "preload/thread_record.h"

namespace threadleak {

// The start of a wait a reader found with since_ns == kSinceUnknown (a lock's wait, recorded
// without a clock read): stamps it with `now_ns`, the first time any reader saw it, and returns
// the stamp. A lower bound of the real start; the waiter resets it with its next wait.
inline int64_t WaitStartSeenBy(const ThreadRecord& record, int64_t now_ns) {
  int64_t since = record.wait.since_ns.load(std::memory_order_relaxed);
  if (since != kSinceUnknown) return since;
  auto& slot = const_cast<std::atomic<int64_t>&>(record.wait.since_ns);
  return slot.compare_exchange_strong(since, now_ns, std::memory_order_relaxed) ? now_ns : since;
}

class WaitScope {
 public:
  // A lock's wait: no clock read (a vDSO clock costs as much as the uncontended lock itself),
  // and nothing read from the lock, which would slow its own locked instruction down. The start
  // is stamped by the first reader that sees the wait (WaitStartSeenBy).
  struct Untimed {};
  WaitScope(uint32_t state, const void* object, Untimed) { Begin(state, object, /*timed=*/false); }
  WaitScope(uint32_t state, const void* object) { Begin(state, object, /*timed=*/true); }
  ~WaitScope() {
    if (record_ != nullptr) record_->wait.state.store(kNotWaiting, std::memory_order_release);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  // Inlined with `timed` a constant: the untimed path has no clock read at all.
  __attribute__((always_inline)) void Begin(uint32_t state, const void* object, bool timed) {
    ThreadRecord* record = t_in_tool ? nullptr : t_record;
    if (record == nullptr || HeldByOuterWait(record)) return;
    record_ = record;
    record->wait.object.store(reinterpret_cast<uintptr_t>(object), std::memory_order_relaxed);
    record->wait.since_ns.store(timed ? CoarseMonotonicNanos() : kSinceUnknown,
                                std::memory_order_relaxed);
    record->wait.state.store(state, std::memory_order_release);
  }

  // An outer hooked wait (a hooked call that reaches another hooked call) keeps the slot —
  // unless it is the stale slot of a wait a cancellation unwound through.
  static bool HeldByOuterWait(const ThreadRecord* record) {
    return record->wait.state.load(std::memory_order_relaxed) != kNotWaiting &&
           !record->cancel_requested.load(std::memory_order_relaxed);
  }

  ThreadRecord* record_ = nullptr;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_WAIT_SCOPE_H_
