// The tool's own thread, for the reports a program does not ask for by exiting: the dump on
// `dump_signal`, the watchdog (`watchdog_ms`) and the time limit (`timeout_ms`: dump, then exit
// with kTimeoutExitCode). It exists only when one of them is on; it
// blocks every signal and is never part of a report.
//
// The dump signal's handler only counts the request and wakes this thread (a futex wake:
// async-signal-safe). Each finished dump renames the thread "threadleak/N" (N dumps so far), so
// `threadleak dump PID` can tell from /proc when the dump it asked for is written.
#ifndef THREADLEAK_PRELOAD_REPORTER_H_
#define THREADLEAK_PRELOAD_REPORTER_H_

#include <signal.h>

#include <cstdint>

namespace threadleak {

inline constexpr int kTimeoutExitCode = 124;  // as timeout(1)

// Installs the dump handler and starts the thread if dump_signal or watchdog_ms asks for it.
// Idempotent per process: after fork, the child starts its own on its first pthread_create.
void StartReporterIfNeeded(bool at_start = false);

// Ends the reporter thread (no more dumps, watchdog or time limit): called when the program's
// last thread ends after main called pthread_exit, so the process ends as it would without us.
void StopReporter();

bool IsToolThread(int32_t tid);

// The dump signal, or 0 when dumps are off or the program took the signal for itself.
int ActiveDumpSignal();

// From the sigaction/signal hooks: the program installs a handler for `signal`. If that is the
// dump signal, threadleak steps aside (the program's handler wins; dumps are off; one warning).
// Returns the action the program would see as the current one without threadleak, or null.
const struct sigaction* NoteProgramHandler(int signal, bool installs);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORTER_H_
