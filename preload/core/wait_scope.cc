#include "preload/core/wait_scope.h"

#include <errno.h>

#include "preload/capture/process_memory.h"
#include "preload/core/runtime.h"

namespace threadleak {

bool KeepInterruptedWait(const WaitSlot& slot, uint64_t word, uintptr_t own_frame,
                         InterruptedWait* kept) {
  const uintptr_t frame = slot.frame.load(std::memory_order_relaxed);
  const uintptr_t return_address = slot.return_address.load(std::memory_order_relaxed);
  // On the interrupted call's stack the handler's frames lie below the hook's; on an alternate
  // stack above it the outer wait cannot be told from a stale one, and is dropped as before.
  if (frame <= own_frame || RuntimeSandboxed()) return false;
  // A stale frame may lie on a stack that is gone: read it where a fault is an error code.
  const int saved_errno = errno;
  uintptr_t on_stack = 0;
  const bool read = ReadProcessMemory(frame + sizeof(uintptr_t), &on_stack);
  errno = saved_errno;
  if (!read || on_stack != return_address) return false;
  *kept = {static_cast<uint32_t>(word),
           slot.object.load(std::memory_order_relaxed),
           slot.since_ns.load(std::memory_order_relaxed),
           frame,
           slot.callee.load(std::memory_order_relaxed),
           return_address};
  return true;
}

void ResumeInterruptedWait(WaitSlot& slot, uint64_t sequence, const InterruptedWait& kept) {
  // The nested wait ends first: a reader that sees the fields change under one word would
  // otherwise take the interrupted wait's fields for the nested one's.
  slot.word.store(sequence | kNotWaiting, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.object.store(kept.object, std::memory_order_relaxed);
  slot.since_ns.store(kept.since_ns, std::memory_order_relaxed);
  slot.frame.store(kept.frame, std::memory_order_relaxed);
  slot.callee.store(kept.callee, std::memory_order_relaxed);
  slot.return_address.store(kept.return_address, std::memory_order_relaxed);
  // A new sequence number: a report that saw the nested wait looks at this one afresh.
  slot.word.store(((sequence | 0xffff'ffffu) + 1) | kept.state, std::memory_order_release);
}

}  // namespace threadleak
