#include "preload/triggers/fatal_signals.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>

#include "preload/capture/call_on_stack.h"
#include "preload/capture/thread_collector.h"
#include "preload/core/clock.h"
#include "preload/core/guard.h"
#include "preload/core/real_functions.h"
#include "preload/core/thread_record.h"
#include "preload/handoff/report_writer.h"
#include "preload/triggers/run_report.h"

namespace threadleak {
namespace {

constexpr int kFatalSignals[] = {SIGTERM, SIGINT,  SIGHUP, SIGQUIT, SIGALRM,
                                 SIGABRT, SIGSEGV, SIGBUS, SIGFPE,  SIGILL};
constexpr int64_t kLockWaitNs = 2'000'000'000;  // for a dump another thread is writing
constexpr int64_t kOtherDeathWaitNs = 30'000'000'000;

// Signals whose handler is threadleak's (set at start-up, cleared when the program sets one).
constinit std::atomic<bool> g_ours[NSIG] = {};
// What the program sees as the action of a signal threadleak holds: the default.
constinit struct sigaction g_default_view = {};
constinit std::atomic<int32_t> g_dying_tid{0};

bool IsFault(int signal) {
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL;
}

// The dying thread is listed too, marked, and unwound from its registers at the signal (its own
// frames below are the handler's).
bool MarkDyingThread(tl_thread* thread, void* context) {
  if (thread->tid != static_cast<int32_t>(gettid())) return true;
  const auto* registers = static_cast<const ucontext_t*>(context);
  thread->flags |= TL_THREAD_DYING;
  thread->unwind = tl_unwind_start{};
  thread->unwind.kind = TL_UNWIND_REGISTERS;
  thread->unwind.sp = static_cast<uintptr_t>(registers->uc_mcontext.gregs[REG_RSP]);
  thread->unwind.pc = static_cast<uintptr_t>(registers->uc_mcontext.gregs[REG_RIP]);
  thread->unwind.frame = static_cast<uintptr_t>(registers->uc_mcontext.gregs[REG_RBP]);
  if (thread->state == TL_STATE_FINISHED) thread->state = TL_STATE_RUNNING;
  return true;
}

// The dump, from the dying thread's own handler. A report that does not end within
// kLockWaitNs: die without one.
void DumpBeforeDeath(int signal, const ucontext_t* context) {
  ToolScope scope;
  RunReport({.trigger = TL_TRIGGER_FATAL_SIGNAL,
             .kind = TL_REPORT_DUMP,
             .filter = {.include_main_thread = true, .include_self = true},
             .select = MarkDyingThread,
             .select_context = const_cast<ucontext_t*>(context),
             .fatal_signal = signal,
             .lock_wait_ns = kLockWaitNs});
}

// The dump runs on a stack of threadleak's own, mapped for it: the handler may be on the
// program's alternate signal stack (a program may size it at a few KiB, and the report needs
// more: it died of SIGSEGV on a 4 KiB one's guard page), or on a thread's stack near its end.
constexpr size_t kDumpStackBytes = size_t{1} << 20;

struct FatalDump {
  int signal;
  const ucontext_t* context;
};

void DumpFromOwnStack(void* argument) {
  const auto* dump = static_cast<const FatalDump*>(argument);
  DumpBeforeDeath(dump->signal, dump->context);
}

__attribute__((noinline)) void DumpOnOwnStack(int signal, const ucontext_t* context) {
  void* stack = mmap(nullptr, kDumpStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) {
    DumpBeforeDeath(signal, context);  // where the handler is: better than no dump
    return;
  }
  const auto start = reinterpret_cast<uintptr_t>(stack);
  NoteReportStack(start, start + kDumpStackBytes);
  // Off the alternate stack, the kernel would put another signal's frame at that stack's top
  // again — over this handler's frame and the interrupted context, which the dump reads and the
  // return restores (SIGSEGV when a program's SA_ONSTACK handler took a signal meanwhile). Every
  // signal that can wait waits until the dump is done; the process dies right after.
  // The kernel's mask, 8 bytes (libc's sigset_t is 128: this frame is on the program's stack).
  const uint64_t every = ~uint64_t{0};
  uint64_t before = 0;
  Real().syscall(SYS_rt_sigprocmask, SIG_SETMASK, &every, &before, sizeof every);
  FatalDump dump{signal, context};
  CallOnStack(static_cast<char*>(stack) + kDumpStackBytes, DumpFromOwnStack, &dump);
  Real().syscall(SYS_rt_sigprocmask, SIG_SETMASK, &before, nullptr, sizeof before);
  NoteReportStack(0, 0);
  munmap(stack, kDumpStackBytes);
}

// Die as without threadleak: the default action, for this very signal. (Its own frame: the
// handler's, on the program's stack until the dump moves off it, stays small.)
__attribute__((noinline)) void DieOfTheSignal(int signal, siginfo_t* info, int32_t self,
                                              int saved_errno) {
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  Real().sigaction(signal, &default_action, nullptr);
  g_ours[signal].store(false, std::memory_order_release);
  errno = saved_errno;
  // A fault the kernel raised happens again when the handler returns, at the same instruction:
  // the default action then ends the process, with a core dump where the system makes one.
  if (IsFault(signal) && info->si_code > 0) return;
  // Anything sent is sent again, to this thread, with its information; delivered (unblocked) as
  // the handler returns.
  if (Real().syscall(SYS_rt_tgsigqueueinfo, getpid(), self, signal, info) != 0) {
    Real().syscall(SYS_tgkill, getpid(), self, signal);
  }
}

void OnFatalSignal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const auto self = static_cast<int32_t>(gettid());
  int32_t expected = 0;
  if (g_dying_tid.compare_exchange_strong(expected, self)) {
    // Not when the signal interrupted threadleak itself: its locks may be held right here.
    if (!t_in_tool && g_ours[signal].load(std::memory_order_acquire)) {
      DumpOnOwnStack(signal, static_cast<const ucontext_t*>(context));
    }
  } else if (expected != self) {
    // Another thread is dying and dumping: its death ends this one too.
    for (int64_t waited = 0; waited < kOtherDeathWaitNs; waited += 10'000'000) {
      SleepNanos(10'000'000);
    }
  }
  DieOfTheSignal(signal, info, self, saved_errno);
}

}  // namespace

void InstallFatalSignalDumps() {
  g_default_view.sa_handler = SIG_DFL;
  for (int signal : kFatalSignals) {
    struct sigaction current = {};
    if (Real().sigaction(signal, nullptr, &current) != 0) continue;
    // An ignored signal (inherited SIG_IGN) stays ignored; a handler is the program's.
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler != SIG_DFL) continue;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction != nullptr) continue;
    struct sigaction ours = {};
    ours.sa_sigaction = OnFatalSignal;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&ours.sa_mask);
    for (int other : kFatalSignals) {
      if (other != signal && !IsFault(other)) sigaddset(&ours.sa_mask, other);
    }
    g_ours[signal].store(true, std::memory_order_release);
    if (Real().sigaction(signal, &ours, nullptr) != 0) g_ours[signal].store(false);
  }
}

const struct sigaction* NoteProgramFatalSignalAction(int signal, bool sets) {
  if (signal <= 0 || signal >= NSIG || !g_ours[signal].load(std::memory_order_acquire)) {
    return nullptr;
  }
  if (sets) g_ours[signal].store(false, std::memory_order_release);
  return &g_default_view;
}

}  // namespace threadleak
