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
#ifndef THREADLEAK_PRELOAD_REPORTER_H_
#define THREADLEAK_PRELOAD_REPORTER_H_

#include <signal.h>
#include <unistd.h>

#include <cstdint>

namespace threadleak {

inline constexpr int kTimeoutExitCode = 124;  // as timeout(1)

// The value a dump request carries (si_value): a marker in the top 16 bits, so it is never taken
// for the program's, then the pid of the process asking and one of its descriptors (a pipe) the
// dump is written to as well, or kNoReplyDescriptor.
inline constexpr uintptr_t kDumpRequestMarker = 0x7d0d;
inline constexpr uint32_t kNoReplyDescriptor = 0xffff;
inline constexpr uintptr_t EncodeDumpRequest(uint32_t pid, uint32_t reply_fd) {
  return (kDumpRequestMarker << 48) | (uintptr_t{pid} << 16) | (reply_fd & 0xffff);
}
inline constexpr bool IsDumpRequest(uintptr_t value) {
  return (value >> 48) == kDumpRequestMarker;
}
// The value a stop carries (StopReporter), and the time limit's timer.
inline constexpr uintptr_t kStopMarker = 0x746c'7374'6f70;       // "tlstop"
inline constexpr uintptr_t kTimeLimitMarker = 0x746c'7469'6d65;  // "tltime"
// The value that tells the reporter an exit began (NoteExitBegan).
inline constexpr uintptr_t kExitMarker = 0x746c'6578'6974;  // "tlexit"

// The siginfo of a signal threadleak queues to one thread (rt_tgsigqueueinfo): sent by this
// process, SI_QUEUE, carrying `value` (one of the markers above, or the sampler's payload).
inline siginfo_t MarkedSignal(int signal, uintptr_t value) {
  siginfo_t info = {};
  info.si_signo = signal;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_ptr = reinterpret_cast<void*>(value);
  return info;
}

// Starts the thread: with the program's first thread of its own (it serves dumps and watches the
// exit), or at start-up for watchdog_ms or timeout_ms. Idempotent per process: after fork, the
// child starts its own on its first pthread_create.
void StartReporterIfNeeded(bool at_start = false);

// An exit began (exit_check.h, BeginExit): the reporter watches it until the leak check begins,
// and if it stops for good (exit_watch.h), reports where (ReportExitHang) and ends the process.
// Without a reporter (the program never had a second thread) there is nothing to hang on.
void NoteExitBegan();

// Ends the reporter thread (no more dumps, watchdog or time limit): called when the program's
// last thread ends after main called pthread_exit, so the process ends as it would without us.
void StopReporter();

// From the unshare and setns hooks: if the caller is the program's only thread, stops the
// reporter and waits until it has ended, so the process is single-threaded as the program made
// it (some namespaces cannot be entered otherwise). The program's next thread starts it again;
// meanwhile a time limit is kept by a timer.
void StopReporterIfProgramIsAlone();

// The time limit's timer fired while the reporter was stopped (from the sampler's handler):
// ends the process with kTimeoutExitCode. Async-signal-safe.
[[noreturn]] void OnTimeLimitSignal();

bool IsToolThread(int32_t tid);

// threadleak's own thread, or 0 when it does not run.
int32_t ToolThreadTid();
// Its pthread_t, as a number, or 0 (as ToolThreadTid).
uintptr_t ToolThreadHandle();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORTER_H_
