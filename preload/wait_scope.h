// Fills the calling thread's wait slot for the duration of a blocking call. Plain atomic stores
// into the thread's own record: no lock, no allocation, no system call but a vDSO clock read.
#ifndef THREADLEAK_PRELOAD_WAIT_SCOPE_H_
#define THREADLEAK_PRELOAD_WAIT_SCOPE_H_

#include "preload/clock.h"
#include "preload/guard.h"
#include "preload/thread_record.h"

namespace threadleak {

class WaitScope {
 public:
  WaitScope(uint32_t state, const void* object) {
    ThreadRecord* record = t_in_tool ? nullptr : t_record;
    // An outer hooked wait (a hooked call that reaches another hooked call) keeps the slot.
    if (record == nullptr || record->wait.state.load(std::memory_order_relaxed) != kNotWaiting) {
      return;
    }
    record_ = record;
    record->wait.object.store(reinterpret_cast<uintptr_t>(object), std::memory_order_relaxed);
    record->wait.since_ns.store(MonotonicNanos(), std::memory_order_relaxed);
    record->wait.state.store(state, std::memory_order_release);
  }
  ~WaitScope() {
    if (record_ != nullptr) record_->wait.state.store(kNotWaiting, std::memory_order_release);
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  ThreadRecord* record_ = nullptr;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_WAIT_SCOPE_H_
