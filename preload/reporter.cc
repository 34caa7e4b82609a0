#include "preload/reporter.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "preload/blockers.h"
#include "preload/clock.h"
#include "preload/diagnostics.h"
#include "preload/exit_check.h"
#include "preload/fixed_buffer.h"
#include "preload/guard.h"
#include "preload/interruptions.h"
#include "preload/object_touches.h"
#include "preload/options.h"
#include "preload/real_functions.h"
#include "preload/registry.h"
#include "preload/report_lock.h"
#include "preload/report_output.h"
#include "preload/signal_names.h"
#include "preload/stack_sampler.h"
#include "preload/thread_collector.h"
#include "preload/wait_scope.h"

namespace threadleak {
namespace {

constinit std::atomic<uint32_t> g_dump_requests{0};  // a futex word
constinit std::atomic<int32_t> g_reporter_tid{0};
constinit std::atomic<pid_t> g_reporter_pid{0};  // the process that started it (fork)
constinit std::atomic<int> g_dump_signal{0};
constinit std::atomic<bool> g_stepped_aside{false};
constinit struct sigaction g_previous_action = {};    // what the program had before us
constinit std::atomic<bool> g_stop_requested{false};  // the program's last thread is ending
constinit std::atomic<bool> g_early_request{false};   // a dump asked for before the thread ran
constinit int64_t g_start_ns = 0;                     // when the process started, for timeout_ms

void OnDumpSignal(int, siginfo_t*, void*) {
  int saved_errno = errno;
  NoteToolInterruption();  // whichever thread the kernel picked may be in nanosleep, poll, ...
  if (g_reporter_pid.load(std::memory_order_acquire) != getpid()) {
    g_early_request.store(true, std::memory_order_relaxed);
  }
  g_dump_requests.fetch_add(1, std::memory_order_release);
  Real().syscall(SYS_futex, &g_dump_requests, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  errno = saved_errno;
}

// Waits for a dump request or until `timeout_ns` passed (negative: forever).
void WaitForRequest(uint32_t seen, int64_t timeout_ns) {
  timespec timeout = {static_cast<time_t>(timeout_ns / 1'000'000'000),
                      static_cast<long>(timeout_ns % 1'000'000'000)};
  Real().syscall(SYS_futex, &g_dump_requests, FUTEX_WAIT_PRIVATE, seen,
                 timeout_ns < 0 ? nullptr : &timeout, nullptr, 0);
}

void Dump() {
  SpinLockGuard guard(g_report_lock);
  ThreadList list;
  if (!CollectThreads({.include_main_thread = true}, &list)) return;
  ReportCollected(TL_TRIGGER_SIGNAL, TL_REPORT_DUMP, &list);
  ReleaseThreadList(&list);
}

struct OverdueSearch {
  int64_t now_ns;
  int64_t limit_ns;
  int32_t tids[256];
  size_t count;
};

void FindOverdue(const ThreadRecord& record, void* opaque) {
  auto* search = static_cast<OverdueSearch*>(opaque);
  if (record.wait.state.load(std::memory_order_acquire) == kNotWaiting) return;
  int64_t since = WaitStartSeenBy(record, search->now_ns);
  if (search->now_ns - since < search->limit_ns) return;
  if (record.watchdog_reported_since.load(std::memory_order_relaxed) == since) return;
  if (search->count == std::size(search->tids)) return;
  record.watchdog_reported_since.store(since, std::memory_order_relaxed);
  search->tids[search->count++] = record.tid.load(std::memory_order_relaxed);
}

// Reports threads blocked in one wait for longer than watchdog_ms, once per wait.
void CheckWatchdog(int64_t limit_ns) {
  OverdueSearch search{MonotonicNanos(), limit_ns, {}, 0};
  ForEachRecord(FindOverdue, &search);
  if (search.count == 0) return;
  SpinLockGuard guard(g_report_lock);
  ThreadList list;
  if (!CollectThreads({.include_main_thread = true}, &list)) return;
  size_t kept = 0;
  for (size_t i = 0; i < list.count; ++i) {
    const int32_t* begin = search.tids;
    const int32_t* end = begin + search.count;
    if (std::find(begin, end, list.threads[i].tid) != end) {
      list.threads[kept++] = list.threads[i];
    }
  }
  list.count = kept;
  if (kept > 0) ReportCollected(TL_TRIGGER_WATCHDOG, TL_REPORT_WATCHDOG, &list);
  ReleaseThreadList(&list);
}

// The time limit (timeout_ms) has passed: dump every thread, then end the process as
// timeout(1) would. Never returns.
[[noreturn]] void TimeOut() {
  {
    SpinLockGuard guard(g_report_lock);
    ThreadList list;
    if (CollectThreads({.include_main_thread = true}, &list)) {
      ReportCollected(TL_TRIGGER_TIMEOUT, TL_REPORT_DUMP, &list);
    }
  }
  FlushStdioWithoutBlocking();
  _exit(kTimeoutExitCode);
}

void NameReporter(uint32_t dumps) {
  FixedBuffer<16> name;
  name.Append("threadleak/").AppendInt(dumps % 10000);
  prctl(PR_SET_NAME, name.c_str());
}

void* ReporterMain(void*) {
  t_in_tool = true;  // nothing this thread does is the program's
  g_reporter_tid.store(static_cast<int32_t>(gettid()), std::memory_order_release);
  const int64_t watchdog_ns = GlobalOptions().watchdog_ms * 1'000'000;
  const int64_t watchdog_period_ns =
      watchdog_ns > 0 ? std::clamp<int64_t>(watchdog_ns / 4, 10'000'000, 1'000'000'000) : -1;
  const int64_t deadline_ns =
      GlobalOptions().timeout_ms > 0 ? g_start_ns + GlobalOptions().timeout_ms * 1'000'000 : -1;
  uint32_t handled = g_dump_requests.load(std::memory_order_acquire);
  if (g_early_request.exchange(false)) handled -= 1;  // asked for before this thread existed
  uint32_t dumps = 0;
  NameReporter(dumps);
  // The stop flag is checked before every wait too: StopReporter may bump the request count
  // between a check after a wait and the dump that takes the new count as handled.
  while (!g_stop_requested.load(std::memory_order_acquire)) {
    int64_t period_ns = watchdog_period_ns;
    if (deadline_ns >= 0) {
      int64_t left = std::max<int64_t>(0, deadline_ns - MonotonicNanos());
      period_ns = period_ns < 0 ? left : std::min(period_ns, left);
    }
    WaitForRequest(handled, period_ns);
    if (g_stop_requested.load(std::memory_order_acquire)) break;
    if (deadline_ns >= 0 && MonotonicNanos() >= deadline_ns) TimeOut();
    uint32_t requests = g_dump_requests.load(std::memory_order_acquire);
    if (requests != handled) {
      handled = requests;  // requests that arrive during a dump are served by one more dump
      Dump();
      NameReporter(++dumps);
    }
    if (watchdog_ns > 0) CheckWatchdog(watchdog_ns);
  }
  // glibc ends the process when its last thread ends (main having called pthread_exit): that
  // must not wait for this one. If this is the last, its exit() runs the exit check.
  t_in_tool = false;
  return nullptr;
}

// Installs the handler for `signal` unless there is none to install, the program handles it
// itself, or it is installed already (a fork child inherits it).
void InstallDumpHandlerIfNeeded(int signal) {
  if (signal == kNoSignal || g_stepped_aside.load(std::memory_order_relaxed) ||
      g_dump_signal.load(std::memory_order_relaxed) == signal) {
    return;
  }
  struct sigaction action = {};
  action.sa_sigaction = OnDumpSignal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  Real().sigaction(signal, &action, &g_previous_action);
  g_dump_signal.store(signal, std::memory_order_release);
}

constexpr int kUnparsed = -2;  // neither a signal, kNoSignal nor kBadSignal

// dump_signal, parsed once per program: a bad value is said once, not at every thread start
// (nor again in a forked child, which inherits the answer).
int ConfiguredDumpSignal() {
  static constinit std::atomic<int> configured{kUnparsed};
  int signal = configured.load(std::memory_order_acquire);
  if (signal != kUnparsed) return signal;
  const char* text = GlobalOptions().dump_signal;
  int parsed = ParseSignal(text);
  bool bad = parsed == kBadSignal || parsed == SampleSignal();
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

}  // namespace

void StartReporterIfNeeded(bool at_start) {
  pid_t pid = getpid();
  if (g_reporter_pid.load(std::memory_order_acquire) == pid) return;
  const Options& options = GlobalOptions();
  const int signal = ConfiguredDumpSignal();
  // A thread of ours at start-up would make every program multi-threaded for good, and glibc
  // and libstdc++ then leave their single-thread fast paths (__libc_single_threaded: mutexes
  // without a locked instruction, malloc, stdio, shared_ptr counts). Only the time limit and
  // the watchdog need the thread from the start; for dumps the handler is enough until the
  // program starts a thread of its own (the handler serves a dump requested before then once
  // the thread runs).
  if (at_start && options.watchdog_ms == 0 && options.timeout_ms == 0) {
    InstallDumpHandlerIfNeeded(signal);
    return;
  }
  if (signal == kNoSignal && options.watchdog_ms == 0 && options.timeout_ms == 0) return;
  pid_t expected = g_reporter_pid.load(std::memory_order_acquire);
  if (!g_reporter_pid.compare_exchange_strong(expected, pid)) return;  // another thread won
  ToolScope scope;
  g_start_ns = MonotonicNanos();
  g_reporter_tid.store(0, std::memory_order_relaxed);
  g_stop_requested.store(false, std::memory_order_relaxed);  // (a fork child's own reporter)
  // The thread starts with every signal blocked: the kernel never picks it for a
  // process-directed signal, and the sampler never interrupts it.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  // Not the policy and priority of whichever program thread happened to start it.
  pthread_attr_setinheritsched(&attributes, PTHREAD_EXPLICIT_SCHED);
  pthread_attr_setschedpolicy(&attributes, SCHED_OTHER);
  sched_param priority = {};
  pthread_attr_setschedparam(&attributes, &priority);
  pthread_t thread;
  bool started = Real().pthread_create(&thread, &attributes, ReporterMain, nullptr) == 0;
  pthread_attr_destroy(&attributes);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!started) {
    WriteDiagnosticLine("threadleak: warning: cannot start the reporter thread; dumps are off");
    return;
  }
  InstallDumpHandlerIfNeeded(signal);
  // Wait until it runs, so it is never counted as the program's thread.
  while (g_reporter_tid.load(std::memory_order_acquire) == 0) sched_yield();
}

void StopReporter() {
  if (g_reporter_pid.load(std::memory_order_acquire) != getpid()) return;
  g_stop_requested.store(true, std::memory_order_release);
  // A change of the futex word, so a wait that starts after the flag was checked returns.
  g_dump_requests.fetch_add(1, std::memory_order_release);
  Real().syscall(SYS_futex, &g_dump_requests, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

bool IsToolThread(int32_t tid) {
  return tid != 0 && g_reporter_pid.load(std::memory_order_relaxed) == getpid() &&
         g_reporter_tid.load(std::memory_order_relaxed) == tid;
}

int ActiveDumpSignal() {
  return g_stepped_aside.load(std::memory_order_relaxed)
             ? 0
             : g_dump_signal.load(std::memory_order_relaxed);
}

const struct sigaction* NoteProgramHandler(int signal, bool installs) {
  int dump_signal = g_dump_signal.load(std::memory_order_acquire);
  if (dump_signal == 0 || signal != dump_signal || g_stepped_aside.load()) return nullptr;
  if (installs) {
    g_stepped_aside.store(true);
    FixedBuffer<256> line;
    line.Append("threadleak: the program installs its own handler for signal ");
    line.AppendInt(signal).Append("; dumps on it are off (choose another with dump_signal=)");
    WriteDiagnosticLine(line.view());
  }
  return &g_previous_action;
}

}  // namespace threadleak
