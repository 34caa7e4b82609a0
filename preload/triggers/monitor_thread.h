// The tool's own thread, for the reports a program does not ask for by exiting: the dump that
// `threadleak dump PID` requests, the watchdog (`watchdog_ms`) and the time limit (`timeout_ms`:
// dump, then exit with kTimeoutExitCode). It exists once the program has a thread of its own
// (at once for the watchdog and the time limit); it blocks every signal and is never part of a
// report.
//
// A dump request is the dump signal sent to this thread alone (rt_tgsigqueueinfo) with
// a marked value (EncodeDumpRequest). The thread takes it with sigtimedwait: threadleak installs no
// handler for it, so the same signal sent to the process by anyone else has exactly the effect
// it has without threadleak (the program's handler, the default action, or nothing). While
// waiting, this thread's blocked mask in /proc/PID/task/TID/status lacks the dump signal:
// that is how `threadleak dump` learns which signal to send, whatever set it (environment,
// include= file, the program's default options). Each finished dump renames the thread
// "threadleak/N" (N dumps so far), so `threadleak dump` can tell when its dump is written.
#ifndef THREADLEAK_PRELOAD_TRIGGERS_MONITOR_THREAD_H_
#define THREADLEAK_PRELOAD_TRIGGERS_MONITOR_THREAD_H_

#include <cstdint>

#include "preload/core/marked_signals.h"

namespace threadleak {

inline constexpr int kTimeoutExitCode = 124;  // as timeout(1)

// Starts the thread: with the program's first thread of its own (it serves dumps and watches the
// exit), or at start-up for watchdog_ms or timeout_ms. Idempotent per process: after fork, the
// child starts its own on its first pthread_create.
void StartMonitorIfNeeded(bool at_start = false);

// An exit began (exit_check.h, BeginExit): the monitor thread watches it until the leak check
// begins, and if it stops for good (exit_watch.h), reports where (ReportExitHang) and ends the
// process. Without a monitor thread (the program never had a second thread) there is nothing to
// hang on.
void NoteExitBegan();

// Ends the monitor thread (no more dumps, watchdog or time limit): called when the program's
// last thread ends after main called pthread_exit, so the process ends as it would without us.
void StopMonitor();

// From the unshare and setns hooks: if the caller is the program's only thread, stops the
// monitor thread and waits until it has ended, so the process is single-threaded as the program
// made it (some namespaces cannot be entered otherwise). The program's next thread starts it again;
// meanwhile a time limit is kept by a timer.
void StopMonitorIfProgramIsAlone();

// The time limit's timer fired while the monitor thread was stopped (from the sampler's handler):
// ends the process with kTimeoutExitCode. Async-signal-safe.
[[noreturn]] void OnTimeLimitSignal();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TRIGGERS_MONITOR_THREAD_H_
