// The stack of a pthread_create (or thrd_create) call, for "created by" in reports.
//
// Creation stacks repeat: a pool starts its workers from one place, a server a thread per
// connection from another. A full walk looks up every frame's unwind information (libunwind
// without its cache, unwinder.cc: about 100 instructions a frame), most of what a creation costs
// the tool. A stack walked once is remembered with where each of its return addresses lay,
// relative to the capturing frame; the next capture whose stack holds the same return addresses
// at the same places is the same chain of calls, recognised with one load and compare a frame.
//
// Called from the creation hooks only (never from a signal handler); takes no lock.
#ifndef THREADLEAK_PRELOAD_CAPTURE_CREATION_STACK_H_
#define THREADLEAK_PRELOAD_CAPTURE_CREATION_STACK_H_

#include <cstddef>
#include <cstdint>

namespace threadleak {

// The calling thread's return addresses, innermost first, without the tool's own frames: at
// most `max`. Returns how many it stored.
size_t CaptureCreationStack(uintptr_t* pcs, size_t max);

// What CaptureCreationStack did so far, for tests.
struct CreationStackCounts {
  uint64_t remembered = 0;  // captures answered from a remembered stack
  uint64_t walked = 0;      // captures that walked the stack
};
CreationStackCounts CreationStackCountsSoFar();

// Forgets every remembered stack (tests; a module unloaded leaves nothing to match anyway).
void ForgetCreationStacks();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_CREATION_STACK_H_
