// Captures where other threads of this process are right now: each target thread is sent a
// signal whose handler unwinds the thread's own stack into a preallocated slot, then returns, so
// the thread resumes its wait. Threads that do not answer in time (they block every signal) get
// the single pc the kernel reports for them.
//
// Call from a normal thread (the reporter), never from a signal handler. One sampling at a time.
#ifndef THREADLEAK_PRELOAD_STACK_SAMPLER_H_
#define THREADLEAK_PRELOAD_STACK_SAMPLER_H_

#include <cstddef>

#include "preload/snapshot.h"

namespace threadleak {

// The real-time signal the sampler uses (SIGRTMAX - 3).
int SampleSignal();

// Fills threads[i].stack for every thread whose state is not TL_STATE_FINISHED.
void SampleStacks(tl_thread* threads, size_t count);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_STACK_SAMPLER_H_
