#include "preload/triggers/monitor_thread.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "preload/capture/blockers.h"
#include "preload/capture/stack_sampler.h"
#include "preload/capture/thread_collector.h"
#include "preload/capture/thread_scan.h"
#include "preload/config/options.h"
#include "preload/config/signal_names.h"
#include "preload/core/clock.h"
#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/object_touches.h"
#include "preload/core/process_identity.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/tool_thread.h"
#include "preload/core/wait_scope.h"
#include "preload/handoff/report_output.h"
#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"
#include "preload/triggers/exit_check.h"
#include "preload/triggers/exit_watch.h"
#include "preload/triggers/run_report.h"

namespace threadleak {
namespace {

constexpr int64_t kExitWatchPeriodNs = 100'000'000;  // how often a running exit is looked at
constinit std::atomic<uint32_t> g_stop_word{
    0};  // a futex word, for a monitor thread without a signal
constinit std::atomic<bool> g_stop_requested{false};  // the program's last thread is ending
constinit int g_dump_signal = kNoSignal;              // the monitor thread's, set before it starts
constinit int64_t g_start_ns = 0;                     // when the process started, for timeout_ms
constinit pid_t g_start_pid = 0;                      // the process g_start_ns belongs to
constinit pthread_t g_monitor_thread = 0;             // joinable: see StopMonitorIfProgramIsAlone
constinit std::atomic<bool> g_join_requested{false};  // its stopper joins it; else it detaches
// The time limit while the monitor thread is stopped (timer_create; 0: none armed).
constinit timer_t g_time_limit_timer = nullptr;
constinit bool g_time_limit_timer_armed = false;

// Makes the monitor thread's wait return, so it sees g_stop_requested: the dump signal to that
// thread alone, marked (its sigtimedwait), and a change of the futex word (a monitor thread without
// a dump signal, or one between two waits).
void WakeMonitor(uintptr_t marker = kStopMarker) {
  int32_t tid = g_tool_thread_tid.load(std::memory_order_acquire);
  if (g_dump_signal != kNoSignal && tid != 0) {
    siginfo_t info = MarkedSignal(g_dump_signal, marker);
    Real().syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, g_dump_signal, &info);
  }
  g_stop_word.fetch_add(1, std::memory_order_release);
  Real().syscall(SYS_futex, &g_stop_word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

enum class Wake { kTimeout, kDump, kStop, kExit };

// What the monitor thread makes of a dump signal it took: a request from `threadleak dump`, or a
// stop from StopMonitor, carries its marker; anything else was the program's, sent to the process.
enum class Taken { kDumpRequest, kStop, kExit, kProgramSignal };

Taken Classify(const siginfo_t& info) {
  if (info.si_code != SI_QUEUE) return Taken::kProgramSignal;
  auto value = reinterpret_cast<uintptr_t>(info.si_value.sival_ptr);
  if (IsDumpRequest(value)) return Taken::kDumpRequest;
  if (value == kStopMarker && info.si_pid == getpid()) return Taken::kStop;
  if (value == kExitMarker && info.si_pid == getpid()) return Taken::kExit;
  return Taken::kProgramSignal;
}

// Who asked for the dump being made: the dump is also written to that process's pipe.
struct Requester {
  uint32_t pid = 0;
  uint32_t fd = kNoReplyDescriptor;
};
constinit Requester g_requester;

bool PendingIn(const char* field, int signal) {
  return (ReadSignalMask(CurrentTid(), field) >> (signal - 1)) & 1;
}

// The signal the monitor thread just took was the program's: a process-directed signal that the
// kernel gave this thread because it was the one waiting for it. It goes back to the process
// as it came (sender, code and value kept: a process may queue any siginfo to itself), and the
// monitor thread does not wait for that signal again while the process still has it pending, so a
// program thread takes it — as it would have without threadleak. Requests sent to this thread
// alone (thread-private pending) are still served meanwhile.
Wake GiveBack(const siginfo_t& info, int64_t timeout_ns) {
  siginfo_t copy = info;
  Real().syscall(SYS_rt_sigqueueinfo, getpid(), info.si_signo, &copy);
  const int64_t deadline = timeout_ns < 0 ? -1 : MonotonicNanos() + timeout_ns;
  while (PendingIn("ShdPnd", info.si_signo)) {
    if (PendingIn("SigPnd", info.si_signo)) break;  // a request of our own: take it below
    if (deadline >= 0 && MonotonicNanos() >= deadline) return Wake::kTimeout;
    if (g_stop_requested.load(std::memory_order_acquire)) return Wake::kStop;
    timespec pause = {0, 10'000'000};
    Real().nanosleep(&pause, nullptr);
  }
  return Wake::kTimeout;  // the caller waits again
}

// Waits for a dump request, a stop, or `timeout_ns` (negative: forever). The dump signal is
// blocked in this thread like every other; it is taken with sigtimedwait, so no handler is ever
// installed and the program's disposition of the signal is untouched.
Wake WaitForRequest(int64_t timeout_ns) {
  timespec timeout = {static_cast<time_t>(timeout_ns / 1'000'000'000),
                      static_cast<long>(timeout_ns % 1'000'000'000)};
  if (g_dump_signal == kNoSignal) {
    Real().syscall(SYS_futex, &g_stop_word, FUTEX_WAIT_PRIVATE, 0,
                   timeout_ns < 0 ? nullptr : &timeout, nullptr, 0);
    return g_stop_requested.load(std::memory_order_acquire) ? Wake::kStop : Wake::kTimeout;
  }
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, g_dump_signal);
  siginfo_t info;
  int taken = static_cast<int>(Real().syscall(SYS_rt_sigtimedwait, &wanted, &info,
                                              timeout_ns < 0 ? nullptr : &timeout, _NSIG / 8));
  if (taken != g_dump_signal) {
    return g_stop_requested.load(std::memory_order_acquire) ? Wake::kStop : Wake::kTimeout;
  }
  switch (Classify(info)) {
    case Taken::kDumpRequest: {
      auto value = reinterpret_cast<uintptr_t>(info.si_value.sival_ptr);
      g_requester = {static_cast<uint32_t>(value >> 16), static_cast<uint32_t>(value & 0xffff)};
      return Wake::kDump;
    }
    case Taken::kStop:
      return Wake::kStop;
    case Taken::kExit:
      return Wake::kExit;
    case Taken::kProgramSignal:
      break;
  }
  return GiveBack(info, timeout_ns);
}

// The requester's pipe, opened through /proc (it named one of its own descriptors): -1 if it
// named none, or it cannot be opened (it ended, or belongs to someone else).
int OpenRequesterPipe() {
  Requester requester = g_requester;
  g_requester = Requester{};
  if (requester.pid == 0 || requester.fd == kNoReplyDescriptor) return -1;
  FixedBuffer<64> path;
  path.Append("/proc/").AppendInt(requester.pid).Append("/fd/").AppendInt(requester.fd);
  return open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

void Dump() {
  const int reply = OpenRequesterPipe();
  RunReport({.trigger = TL_TRIGGER_SIGNAL,
             .kind = TL_REPORT_DUMP,
             .filter = {.include_main_thread = true},
             .copy_fd = reply});
  if (reply >= 0) close(reply);
}

struct OverdueSearch {
  int64_t now_ns;
  int64_t limit_ns;
  int32_t tids[256];
  size_t count;
};

void FindOverdue(const ThreadRecord& record, void* opaque) {
  auto* search = static_cast<OverdueSearch*>(opaque);
  // A thread waiting for input (or a client, or a child) is idle, not stuck.
  if (uint32_t state = record.wait.State(); state == kNotWaiting || state == TL_STATE_IO) return;
  int64_t since = WaitStartSeenBy(record, search->now_ns).ns;
  if (search->now_ns - since < search->limit_ns) return;
  if (WatchdogReportedWait(record, since)) return;
  if (search->count == std::size(search->tids)) return;
  NoteWatchdogReportedWait(record, since);
  search->tids[search->count++] = record.tid.load(std::memory_order_relaxed);
}

bool IsOverdue(tl_thread* thread, void* opaque) {
  const auto* search = static_cast<const OverdueSearch*>(opaque);
  const int32_t* end = search->tids + search->count;
  return std::find(search->tids, end, thread->tid) != end;
}

// Reports threads blocked in one wait for longer than watchdog_ms, once per wait.
void CheckWatchdog(int64_t limit_ns) {
  OverdueSearch search{MonotonicNanos(), limit_ns, {}, 0};
  ForEachRecord(FindOverdue, &search);
  if (search.count == 0) return;
  RunReport({.trigger = TL_TRIGGER_WATCHDOG,
             .kind = TL_REPORT_WATCHDOG,
             .filter = {.include_main_thread = true},
             .select = IsOverdue,
             .select_context = &search});
}

// watchdog_abandoned: every thread goes to the report module, which proves which are abandoned
// (reachability) and reports those it has not reported before. Only when the threads' waits
// changed since the last look: a service idling in the same waits is not scanned again.
struct WaitFingerprint {
  uint64_t hash;
  size_t waiting;
};

void AddToFingerprint(const ThreadRecord& record, void* opaque) {
  auto* print = static_cast<WaitFingerprint*>(opaque);
  uint64_t word = record.wait.word.load(std::memory_order_relaxed);
  uint64_t tid = static_cast<uint32_t>(record.tid.load(std::memory_order_relaxed));
  print->hash += (word ^ (tid << 32) ^ record.lifecycle.load(std::memory_order_relaxed)) *
                 0x9E3779B97F4A7C15ull;
  if (static_cast<uint32_t>(word) != kNotWaiting) ++print->waiting;
}

void CheckAbandoned() {
  static constinit uint64_t last_hash = 0;
  WaitFingerprint print{0, 0};
  ForEachRecord(AddToFingerprint, &print);
  if (print.waiting == 0 || print.hash == last_hash) return;
  last_hash = print.hash;
  RunReport({.trigger = TL_TRIGGER_WATCHDOG,
             .kind = TL_REPORT_ABANDONED,
             .filter = {.include_main_thread = true}});
}

// The time limit (timeout_ms) has passed: dump every thread, then end the process as
// timeout(1) would. Never returns.
[[noreturn]] void TimeOut() {
  RunReport({.trigger = TL_TRIGGER_TIMEOUT,
             .kind = TL_REPORT_DUMP,
             .filter = {.include_main_thread = true}});
  FlushStdioWithoutBlocking(StreamLockHeld::kSkip);
  _exit(kTimeoutExitCode);
}

// "threadleak/N" after N dumps, so `threadleak dump` sees when the one it asked for is written;
// "threadleak" alone when dumps are off.
void NameMonitor(uint32_t dumps) {
  FixedBuffer<16> name;
  name.Append("threadleak");
  if (g_dump_signal != kNoSignal) name.AppendChar('/').AppendInt(dumps % 10000);
  // libc's, not the hook: this thread's name is no program thread's, and the hook would have
  // every program thread read its own name again after each dump.
  Real().prctl(PR_SET_NAME, reinterpret_cast<unsigned long>(name.c_str()), 0, 0, 0);
}

void* MonitorMain(void*) {
  t_in_tool = true;  // nothing this thread does is the program's
  g_tool_thread_tid.store(static_cast<int32_t>(gettid()), std::memory_order_release);
  const int64_t watchdog_ns = GlobalOptions().watchdog_ms * 1'000'000;
  const bool abandoned_watch = GlobalOptions().watchdog_abandoned;
  const int64_t watchdog_period_ns =
      watchdog_ns > 0   ? std::clamp<int64_t>(watchdog_ns / 4, 10'000'000, 1'000'000'000)
      : abandoned_watch ? 250'000'000
                        : -1;
  const int64_t deadline_ns =
      GlobalOptions().timeout_ms > 0 ? g_start_ns + GlobalOptions().timeout_ms * 1'000'000 : -1;
  uint32_t dumps = 0;
  NameMonitor(dumps);
  ExitWatch exit_watch;
  while (!g_stop_requested.load(std::memory_order_acquire)) {
    int64_t period_ns = watchdog_period_ns;
    if (deadline_ns >= 0) {
      int64_t left = std::max<int64_t>(0, deadline_ns - MonotonicNanos());
      period_ns = period_ns < 0 ? left : std::min(period_ns, left);
    }
    if (ExitingThread() != 0) {
      period_ns = period_ns < 0 ? kExitWatchPeriodNs : std::min(period_ns, kExitWatchPeriodNs);
    }
    Wake wake = WaitForRequest(period_ns);
    if (wake == Wake::kStop || g_stop_requested.load(std::memory_order_acquire)) break;
    if (deadline_ns >= 0 && MonotonicNanos() >= deadline_ns) TimeOut();
    if (wake == Wake::kDump) {
      Dump();
      NameMonitor(++dumps);
    }
    if (watchdog_ns > 0) CheckWatchdog(watchdog_ns);
    if (int32_t exiting = ExitingThread();
        exiting != 0 && exit_watch.Stopped(exiting, MonotonicNanos())) {
      ReportExitHang(exiting);  // ends the process, unless the check began meanwhile
    }
    if (abandoned_watch) CheckAbandoned();
  }
  // glibc ends the process when its last thread ends (main having called pthread_exit): that
  // must not wait for this one. If this is the last, its exit() runs the exit check. Nobody
  // joins it then: it detaches itself (a thread can do so without racing its own end).
  if (!g_join_requested.load(std::memory_order_acquire)) Real().pthread_detach(pthread_self());
  t_in_tool = false;
  return nullptr;
}

constexpr int kUnparsed = -2;  // neither a signal, kNoSignal nor kBadSignal

// dump_signal, parsed once per program: a bad value is said once, not at every thread start
// (nor again in a forked child, which inherits the answer).
int ConfiguredDumpSignal() {
  static constinit std::atomic<int> configured{kUnparsed};
  int signal = configured.load(std::memory_order_acquire);
  if (signal != kUnparsed) return signal;
  const char* text = GlobalOptions().dump_signal;
  int parsed = ParseSignalOption(text);
  bool bad = parsed == kBadSignal;
  int expected = kUnparsed;
  if (configured.compare_exchange_strong(expected, bad ? kNoSignal : parsed,
                                         std::memory_order_acq_rel) &&
      bad) {
    FixedBuffer<256> line;
    line.Append("threadleak: warning: invalid value 'dump_signal=").Append(text);
    line.Append("' in THREADLEAK_OPTIONS (dumps are off)");
    WriteDiagnosticLine(line.view());
  }
  return configured.load(std::memory_order_acquire);
}

void DisarmTimeLimitTimer() {
  if (!g_time_limit_timer_armed) return;
  timer_delete(g_time_limit_timer);
  g_time_limit_timer_armed = false;
}

// While the monitor thread is stopped, the time limit is a POSIX timer: at the deadline its signal
// (the sampler's, with kTimeLimitMarker) ends the process with kTimeoutExitCode. A process with
// no thread of its own but the caller has nothing to dump.
void ArmTimeLimitTimer() {
  const int64_t timeout_ms = GlobalOptions().timeout_ms;
  if (timeout_ms == 0) return;
  SetTimeLimitAction(OnTimeLimitSignal);
  if (!InstallSampleHandler()) return;
  sigevent event = {};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SampleSignal();
  event.sigev_value.sival_ptr = reinterpret_cast<void*>(kTimeLimitMarker);
  if (timer_create(CLOCK_MONOTONIC, &event, &g_time_limit_timer) != 0) {
    // RLIMIT_SIGPENDING can forbid the timer's queued signal: the program runs on, unlimited.
    FixedBuffer<160> line;
    line.Append("threadleak: warning: timeout_ms is not kept from here on: timer_create: ")
        .Append(strerrorname_np(errno) != nullptr ? strerrorname_np(errno) : "error");
    WriteDiagnosticLine(line.view());
    return;
  }
  int64_t deadline = g_start_ns + timeout_ms * 1'000'000;
  itimerspec when = {};
  when.it_value = {static_cast<time_t>(deadline / 1'000'000'000),
                   static_cast<long>(deadline % 1'000'000'000)};
  if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0) when.it_value.tv_nsec = 1;
  timer_settime(g_time_limit_timer, TIMER_ABSTIME, &when, nullptr);
  g_time_limit_timer_armed = true;
}

// pthread_join returns once the kernel has cleared the thread's tid word, which it does before it
// takes the thread out of the process: until then unshare(CLONE_NEWUSER) still counts two threads
// and fails with EINVAL (seen under load). Asks with signal 0 until the tid is gone (ESRCH), for
// at most 10,000 pauses of 100 µs.
void WaitUntilTaskLeftTheProcess(pid_t pid, int32_t tid) {
  for (int i = 0; i < 10'000; ++i) {
    // Signal 0 to our own thread fails only with ESRCH (or a sandbox's error): stop either way.
    if (Real().syscall(SYS_tgkill, pid, tid, 0) != 0) break;
    SleepNanos(100'000);
  }
}

}  // namespace

void OnTimeLimitSignal() {
  WriteDiagnosticLine("threadleak: time limit reached (timeout_ms); ending the process");
  _exit(kTimeoutExitCode);
}

void NoteExitBegan() {
  if (g_tool_thread_pid.load(std::memory_order_acquire) != getpid()) return;
  WakeMonitor(kExitMarker);
}

void StopMonitorIfProgramIsAlone() {
  pid_t pid = getpid();
  if (g_tool_thread_pid.load(std::memory_order_acquire) != pid || ProgramThreadCount() != 1) return;
  ToolScope scope;
  ErrnoKeeper keep_errno;  // the program's call comes next, and only its errno may show
  // The caller is the program's only thread: nothing else can start or stop the monitor thread now.
  g_join_requested.store(true, std::memory_order_release);
  g_stop_requested.store(true, std::memory_order_release);
  const int32_t tid = g_tool_thread_tid.load(std::memory_order_acquire);
  if (tid == 0) {  // it never started (pthread_create failed): nothing to join
    g_tool_thread_pid.store(0, std::memory_order_release);
    return;
  }
  WakeMonitor();
  Real().pthread_join(g_monitor_thread, nullptr);
  WaitUntilTaskLeftTheProcess(pid, tid);
  g_tool_thread_tid.store(0, std::memory_order_relaxed);
  g_tool_thread_pid.store(0,
                          std::memory_order_release);  // the program's next thread starts it again
  ArmTimeLimitTimer();
}

void StartMonitorIfNeeded(bool at_start) {
  // Asked on every thread creation: no system call (a fork child gets its own pid here).
  pid_t pid = CurrentPid();
  if (g_tool_thread_pid.load(std::memory_order_acquire) == pid) return;
  const Options& options = GlobalOptions();
  const int signal = ConfiguredDumpSignal();
  // A thread of ours at start-up would make every program multi-threaded for good, and glibc
  // and libstdc++ then leave their single-thread fast paths (__libc_single_threaded: mutexes
  // without a locked instruction, malloc, stdio, shared_ptr counts). Only the time limit and
  // the watchdog need the thread from the start; dumps wait for the program's first thread (a
  // lone main thread is nothing to dump).
  if (at_start && options.watchdog_ms == 0 && options.timeout_ms == 0) return;
  pid_t expected = g_tool_thread_pid.load(std::memory_order_acquire);
  if (!g_tool_thread_pid.compare_exchange_strong(expected, pid)) return;  // another thread won
  ToolScope scope;
  if (g_start_pid != pid) {  // the time limit counts from the process's start, not a restart's
    g_start_ns = MonotonicNanos();
    g_start_pid = pid;
  }
  DisarmTimeLimitTimer();
  g_dump_signal = signal;
  g_tool_thread_tid.store(0, std::memory_order_relaxed);
  g_stop_requested.store(false, std::memory_order_relaxed);  // (a fork child's own monitor thread)
  g_join_requested.store(false, std::memory_order_relaxed);
  g_stop_word.store(0, std::memory_order_relaxed);
  // The thread starts with every signal blocked, and keeps them so: the kernel never runs a
  // handler of the program's on it, and the dump signal is taken with sigtimedwait.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  // Not the policy and priority of whichever program thread happened to start it.
  pthread_attr_setinheritsched(&attributes, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&attributes, SCHED_OTHER);
  sched_param priority = {};
  pthread_attr_setschedparam(&attributes, &priority);
  bool started = Real().pthread_create(&g_monitor_thread, &attributes, MonitorMain, nullptr) == 0;
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!started) {
    WriteDiagnosticLine("threadleak: warning: cannot start the monitor thread; dumps are off");
    return;
  }
  g_tool_thread_handle.store(reinterpret_cast<uintptr_t>(g_monitor_thread),
                             std::memory_order_release);
  // Wait until it runs, so it is never counted as the program's thread.
  while (g_tool_thread_tid.load(std::memory_order_acquire) == 0) sched_yield();
}

void StopMonitor() {
  if (g_tool_thread_pid.load(std::memory_order_acquire) != getpid()) return;
  g_stop_requested.store(true, std::memory_order_release);
  WakeMonitor();
}

}  // namespace threadleak
