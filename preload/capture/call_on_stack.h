// Runs a function on a stack of the tool's own. The sampler's signal handler lands on whatever
// stack the interrupted thread was using — its own a few KiB from the guard page after deep
// recursion, or a small alternate signal stack — and an unwinder needs more room than either
// may have left. The handler's own frame stays small; the unwinding runs on the tool's stack.
#ifndef THREADLEAK_PRELOAD_CAPTURE_CALL_ON_STACK_H_
#define THREADLEAK_PRELOAD_CAPTURE_CALL_ON_STACK_H_

namespace threadleak {

// Calls fn(arg) with the stack pointer at `stack_top` (rounded down to 16 bytes; the stack
// grows down from there), and returns on the caller's stack. Async-signal-safe.
void CallOnStack(void* stack_top, void (*fn)(void*), void* arg);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_CALL_ON_STACK_H_
