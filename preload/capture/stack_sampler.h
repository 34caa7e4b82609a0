// Captures where *running* threads are: a thread that the kernel shows running user code (not
// in a system call), that does not block the sampling signal and has room for a signal frame is
// sent one signal, whose handler unwinds its own stack into a preallocated slot and returns.
// These are the only threads threadleak ever signals: a thread in a system call or a hooked wait
// is unwound from another thread instead (report/blocked_stacks.h), since a signal would cut
// its call short. A running thread that enters a system call in the microseconds between the
// check and the signal's arrival is the one case left (README.md, "Which threads ever receive a
// signal").
//
// Call from a normal thread (the monitor thread), never from a signal handler. One sampling at a
// time.
#ifndef THREADLEAK_PRELOAD_CAPTURE_STACK_SAMPLER_H_
#define THREADLEAK_PRELOAD_CAPTURE_STACK_SAMPLER_H_

#include <signal.h>

#include <cstddef>

#include "preload/core/snapshot.h"

namespace threadleak {

// The real-time signal the sampler uses (SIGRTMAX - 3).
int SampleSignal();

// Fills threads[i].stack for running threads that have none yet. The handler is installed at
// the first sampling that has a thread to sample, and stays (a late signal must find it).
void SampleRunningStacks(tl_thread* threads, size_t count);

// Installs the handler (once) unless the program owns the signal; returns whether it is ours.
// The time limit's timer uses it too (triggers/monitor_thread.cc): its signal, marked with
// kTimeLimitMarker, runs `on_time_limit` (async-signal-safe), which the timer's owner sets first.
bool InstallSampleHandler();
void SetTimeLimitAction(void (*on_time_limit)());

// From the sigaction/signal hooks: the program sets (`sets`) or asks for the action of `signal`.
// If that is the sampling signal, the signal is the program's from then on (no more samples).
// Returns the action the program would see as the current one without threadleak, or null
// when the real one is right.
const struct sigaction* NoteProgramSignalAction(int signal, bool sets);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_STACK_SAMPLER_H_
