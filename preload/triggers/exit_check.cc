#include "preload/triggers/exit_check.h"

#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "preload/capture/blockers.h"
#include "preload/capture/stack_sampler.h"
#include "preload/capture/thread_collector.h"
#include "preload/config/options.h"
#include "preload/core/clock.h"
#include "preload/core/guard.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/runtime.h"
#include "preload/handoff/report_output.h"
#include "preload/triggers/run_report.h"

// glibc's list of open streams (exported, declared only in its internal headers).
extern "C" FILE* _IO_list_all;

namespace threadleak {
namespace {

// The exit runs once per process, in whichever thread gets there first: exit() or main's return
// marks it begun (kExiting); the check itself runs at its very end, after the atexit handlers,
// the static destructors and every library's finalizer (RunExitCheck, from the loader's
// finalizer wrapped below). A second thread calling exit() meanwhile waits for the outcome (the
// report, or the exit going on), as glibc 2.38 and later make it wait, and is no leak itself.
enum ExitCheckState : uint32_t { kNotChecked, kExiting, kChecking, kChecked };
constinit std::atomic<uint32_t> g_exit_check{kNotChecked};  // a futex word
constinit std::atomic<int32_t> g_waiting_tids[32] = {};     // threads waiting for the check
constinit std::atomic<int32_t> g_exiting_tid{0};            // the thread whose exit runs
// Written by the exiting thread (again by a nested exit()), read by the monitor thread on a hang.
constinit std::atomic<int> g_exit_status{0};
constinit MainFn g_program_main = nullptr;
// How long threads alive at the check get before the rules are asked whether any of them counts:
// a thread the exit path woke is usually gone within a few polls (1 µs, 2 µs, ... 1 ms apart),
// and the runtime threads the rules take stay anyway. Short, because the whole exit of a program
// whose survivors are all suppressed should cost under 20 ms (issue 14); a thread that finishes
// later than this costs one count-only pass, then the grace period goes on.
constexpr int64_t kFirstLookNs = 3'000'000;
using LoaderFiniFn = void (*)();
constinit LoaderFiniFn g_loader_fini = nullptr;  // ld.so's _dl_fini, as __libc_start_main got it
// A vfork child called exit() and ran the exit handlers in the memory it shares with its parent:
// the parent's own exit will find them gone, this one included (glibc marks each as run), so its
// check runs where its exit begins.
constinit std::atomic<bool> g_exit_handlers_lost{false};
using Listener = void (*)();
constinit Listener g_exit_began_listener = nullptr;

int MainWrapper(int argc, char** argv, char** envp) {
  if (GlobalOptions().ignore_existing) MarkExistingThreads();
  int status = g_program_main(argc, argv, envp);
  // glibc calls exit(status) next, from inside libc: not through the exit() hook.
  BeginExit(status);
  return status;
}

// Runs last of the exit handlers (the loader registered it first): every destructor, then the
// check.
void LoaderFiniThenCheck() {
  if (!OwnsToolState()) g_exit_handlers_lost.store(true, std::memory_order_release);
  g_loader_fini();
  RunExitCheck(g_exit_status.load(std::memory_order_relaxed));
}

// Waits until the exit another thread runs is over. If it reported leaks the process ends there,
// and this never returns.
void WaitForTheCheck() {
  const auto tid = static_cast<int32_t>(gettid());
  std::atomic<int32_t>* slot = nullptr;
  for (std::atomic<int32_t>& candidate : g_waiting_tids) {
    int32_t empty = 0;
    if (candidate.compare_exchange_strong(empty, tid)) {
      slot = &candidate;
      break;
    }
  }
  for (uint32_t state; (state = g_exit_check.load(std::memory_order_acquire)) != kChecked;) {
    Real().syscall(SYS_futex, &g_exit_check, FUTEX_WAIT_PRIVATE, state, nullptr, nullptr, 0);
  }
  if (slot != nullptr) slot->store(0, std::memory_order_relaxed);
}

// A thread in exit(), waiting for this check, is neither reported nor waited for: one that calls
// exit() while the grace period runs must not keep it going.
bool NotInExit(tl_thread* thread, void*) {
  return !WaitsForTheCheck(thread->tid);
}

// An exit that stopped for good: the exiting thread is listed, marked; main and the threads in
// exit() are left out, as at every exit check.
bool MarkExitingThread(tl_thread* thread, void* exiting_tid) {
  if (thread->tid == *static_cast<int32_t*>(exiting_tid)) {
    thread->flags |= TL_THREAD_EXITING;
    return true;
  }
  return !WaitsForTheCheck(thread->tid) && (thread->flags & TL_THREAD_MAIN) == 0;
}

void FinishCheck() {
  g_exit_check.store(kChecked, std::memory_order_release);
  Real().syscall(SYS_futex, &g_exit_check, FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

// With leaks: stdio flushed, and the process ends at once with the program's status, or the
// leak status for a program that ended well.
[[noreturn]] void EndAfterLeakReport(int status) {
  FlushStdioWithoutBlocking(StreamLockHeld::kFlushAnyway);
  // Staging mode keeps the program's own status: the report is what the user wanted, and a
  // service stopped with SIGTERM must end as it would without the tool. The process still ends
  // here, as in the test-run mode.
  if (GlobalOptions().staging) _exit(status);
  // The status the parent sees is its low byte: exit(256) is a success, and gets the leak status.
  _exit((status & 0xff) != 0 ? status : static_cast<int>(GlobalOptions().exitcode));
}

// Every caller runs after start-up: the exit hook and the shim's destructor start it first, the
// others are installed by it. Before start-up the state is no process's (OwnsToolState).
bool MayCheck() {
  if (t_in_tool) return false;
  // A vfork child shares its parent's memory: nothing it writes may land in the parent's state
  // (the "checked" flag above all), and the parent's threads are not its own.
  return !RuntimeInert() && OwnsToolState() && !RuntimeSandboxed();
}

}  // namespace

bool WaitsForTheCheck(int32_t tid) {
  for (const std::atomic<int32_t>& waiting : g_waiting_tids) {
    if (waiting.load(std::memory_order_relaxed) == tid) return true;
  }
  return false;
}

void BeginExit(int status) {
  if (!MayCheck()) return;
  const auto self = static_cast<int32_t>(gettid());
  uint32_t expected = kNotChecked;
  if (g_exit_check.compare_exchange_strong(expected, kExiting, std::memory_order_acq_rel)) {
    g_exit_status.store(status, std::memory_order_relaxed);
    g_exiting_tid.store(self, std::memory_order_release);
    if (g_exit_handlers_lost.load(std::memory_order_acquire)) return RunExitCheck(status);
    // The monitor thread watches that the exit does not hang (monitor_thread.h).
    if (g_exit_began_listener != nullptr) g_exit_began_listener();
    return;
  }
  if (expected == kChecked) return;
  if (g_exiting_tid.load(std::memory_order_acquire) == self) {
    // exit() after main's return, or exit() again from an atexit handler or a signal handler of
    // the exiting thread: glibc ends the process with this last status, and so does the check.
    if (expected == kExiting) g_exit_status.store(status, std::memory_order_relaxed);
    return;
  }
  WaitForTheCheck();
}

void ListenForExitBegan(void (*listener)()) {
  g_exit_began_listener = listener;
}

bool CheckFollowsTheLoadersFinalizer() {
  return g_loader_fini != nullptr;
}

int32_t ExitingThread() {
  return g_exit_check.load(std::memory_order_acquire) == kExiting
             ? g_exiting_tid.load(std::memory_order_acquire)
             : 0;
}

void RunExitCheck(int status) {
  if (!MayCheck()) return;
  uint32_t expected = g_exit_check.load(std::memory_order_acquire);
  do {
    if (expected == kChecking || expected == kChecked) {
      // Another thread checks (or a hang report is being made): its outcome ends this one.
      if (expected == kChecking) WaitForTheCheck();
      return;
    }
  } while (!g_exit_check.compare_exchange_weak(expected, kChecking, std::memory_order_acq_rel));
  if (expected == kNotChecked)
    g_exit_status.store(status, std::memory_order_relaxed);  // the exit began where no hook saw it
  ToolScope scope;
  const Options& options = GlobalOptions();
  const int64_t grace_ns = options.linger_ms * 1'000'000;
  // Most threads the exit path woke are gone after a first look; if the rules suppress every one
  // still alive (a runtime's threads that live until exit by design: node's, jemalloc's), the
  // exit goes on without waiting out the grace period. print_suppressions wants the whole list.
  const int leaks = RunReport(
      {.trigger = TL_TRIGGER_EXIT,
       .kind = TL_REPORT_LEAKS,
       .filter = {.exclude_existing = options.ignore_existing},
       .select = NotInExit,
       .grace_ns = grace_ns,
       .first_look_ns = options.print_suppressions ? -1 : std::min(grace_ns, kFirstLookNs)});
  if (leaks <= 0) return FinishCheck();  // none, or every thread still alive is suppressed
  EndAfterLeakReport(g_exit_status.load(std::memory_order_relaxed));
}

void ReportExitHang(int32_t exiting_tid) {
  // From the monitor thread: the exit that began has stopped for good (monitor_thread.cc says
  // when).
  uint32_t expected = kExiting;
  if (!g_exit_check.compare_exchange_strong(expected, kChecking, std::memory_order_acq_rel)) {
    return;  // the check came after all
  }
  ToolScope scope;
  RunReport(
      {.trigger = TL_TRIGGER_EXIT,
       .kind = TL_REPORT_LEAKS,
       .filter = {.include_main_thread = true, .exclude_existing = GlobalOptions().ignore_existing},
       .select = MarkExitingThread,
       .select_context = &exiting_tid});
  // The exit cannot finish: the process ends here, with the leak status even if every thread
  // left was suppressed (the program's own exit was going to hang).
  EndAfterLeakReport(g_exit_status.load(std::memory_order_relaxed));
}

// fflush(NULL) would lock every stream, and a leaked thread blocked in fgets() holds the lock of
// stdin forever. Flush as exit() itself does (glibc's _IO_cleanup): only streams with pending
// output, each under its lock when the lock is free, and without it when a thread that will never
// give it back holds it — so a line printed before a leaked thread took stdout's lock still
// appears, as it does without the tool.
void FlushStdioWithoutBlocking(StreamLockHeld when_held) {
  for (FILE* stream = reinterpret_cast<FILE*>(_IO_list_all); stream != nullptr;
       stream = stream->_chain) {
    if (stream->_IO_write_ptr <= stream->_IO_write_base) continue;
    const bool locked = ftrylockfile(stream) == 0;
    if (!locked && when_held == StreamLockHeld::kSkip) continue;
    fflush_unlocked(stream);
    if (locked) funlockfile(stream);
  }
}

void ResetExitCheckAfterFork() {
  // The child's only thread is the one that forked: none of its parent's threads waits in it.
  g_exit_check.store(kNotChecked, std::memory_order_relaxed);
  g_exit_handlers_lost.store(false, std::memory_order_relaxed);
  g_exiting_tid.store(0, std::memory_order_relaxed);
  for (std::atomic<int32_t>& waiting : g_waiting_tids) waiting.store(0, std::memory_order_relaxed);
}

int StartMainWatchingExit(MainFn main, int argc, char** argv, void (*init)(), void (*fini)(),
                          void (*rtld_fini)(), void* stack_end) {
  g_program_main = main;
  // The loader's finalizer runs last of all exit handlers (it was registered first): the check
  // runs right after it, when every destructor of the program and its libraries is done.
  g_loader_fini = rtld_fini;
  return Real().libc_start_main(MainWrapper, argc, argv, init, fini,
                                rtld_fini != nullptr ? LoaderFiniThenCheck : nullptr, stack_end);
}

}  // namespace threadleak
