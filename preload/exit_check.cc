#include "preload/exit_check.h"

#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "preload/blockers.h"
#include "preload/clock.h"
#include "preload/guard.h"
#include "preload/object_touches.h"
#include "preload/options.h"
#include "preload/real_functions.h"
#include "preload/registry.h"
#include "preload/report_lock.h"
#include "preload/report_output.h"
#include "preload/reporter.h"
#include "preload/runtime.h"
#include "preload/stack_sampler.h"
#include "preload/thread_collector.h"

#define THREADLEAK_EXPORT extern "C" __attribute__((visibility("default")))

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
// Written by the exiting thread (again by a nested exit()), read by the reporter on a hang.
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

// Leaves out the threads that are themselves in exit(), waiting for this check.
void DropThreadsInExit(ThreadList* list) {
  size_t kept = 0;
  for (size_t i = 0; i < list->count; ++i) {
    if (!WaitsForTheCheck(list->threads[i].tid)) list->threads[kept++] = list->threads[i];
  }
  list->count = kept;
}

// CollectWithGrace, less the threads in exit(): one that calls exit() while the grace period
// runs must neither keep it going nor be reported.
bool CollectSurvivors(const CollectFilter& filter, int64_t grace_ns, ThreadList* list) {
  const int64_t deadline = MonotonicNanos() + grace_ns;
  int64_t backoff = 1'000;  // 1 µs, doubling up to 100 ms, as CollectWithGrace
  for (;;) {
    if (!CollectThreads(filter, list)) return false;
    DropThreadsInExit(list);
    if (list->count == 0 && list->unstarted == 0) return true;
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) return true;
    ReleaseThreadList(list);
    timespec pause = {0, static_cast<long>(std::min(backoff, left))};
    Real().nanosleep(&pause, nullptr);
    backoff = std::min<int64_t>(backoff * 2, 100'000'000);
  }
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

bool MayCheck() {
  if (t_in_tool) return false;
  EnsureRuntimeInitialized();
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
    NoteExitBegan();  // the reporter watches that the exit does not hang (reporter.h)
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
  int leaks = 0;
  {
    SpinLockGuard guard(g_report_lock);  // a dump in progress finishes first
    ThreadList list;
    CollectFilter filter{.exclude_existing = options.ignore_existing};
    const int64_t grace_ns = options.linger_ms * 1'000'000;
    const int64_t first_look_ns = std::min(grace_ns, kFirstLookNs);
    bool collected = CollectSurvivors(filter, first_look_ns, &list);
    if (collected && list.count > 0 && grace_ns > first_look_ns && !options.print_suppressions) {
      // Threads still alive after a first look: if the rules suppress every one (a runtime's
      // threads that live until exit by design: node's, jemalloc's), there is nothing to wait
      // for, and the exit goes on without the grace period.
      if (ReportCollected(TL_TRIGGER_EXIT, TL_REPORT_LEAKS, &list, kCountOnly) == 0) {
        ReleaseThreadList(&list);
        return FinishCheck();
      }
      ReleaseThreadList(&list);
      collected = CollectSurvivors(filter, grace_ns - first_look_ns, &list);
    }
    if (collected && list.count > 0) {
      leaks = ReportCollected(TL_TRIGGER_EXIT, TL_REPORT_LEAKS, &list);
    }
    ReleaseThreadList(&list);
  }
  if (leaks == 0) return FinishCheck();  // none, or every thread still alive is suppressed
  EndAfterLeakReport(g_exit_status.load(std::memory_order_relaxed));
}

void ReportExitHang(int32_t exiting_tid) {
  // From the reporter thread: the exit that began has stopped for good (reporter.cc says when).
  uint32_t expected = kExiting;
  if (!g_exit_check.compare_exchange_strong(expected, kChecking, std::memory_order_acq_rel)) {
    return;  // the check came after all
  }
  ToolScope scope;
  const Options& options = GlobalOptions();
  int leaks = 0;
  {
    SpinLockGuard guard(g_report_lock);
    ThreadList list;
    CollectFilter filter{.include_main_thread = true, .exclude_existing = options.ignore_existing};
    if (CollectThreads(filter, &list)) {
      size_t kept = 0;
      for (size_t i = 0; i < list.count; ++i) {
        tl_thread& thread = list.threads[i];
        if (thread.tid == exiting_tid) {
          thread.flags |= TL_THREAD_EXITING;
        } else if (WaitsForTheCheck(thread.tid) || (thread.flags & TL_THREAD_MAIN)) {
          continue;  // as at every exit check: main and threads in exit() are no leaks
        }
        list.threads[kept++] = thread;
      }
      list.count = kept;
      leaks = ReportCollected(TL_TRIGGER_EXIT, TL_REPORT_LEAKS, &list);
    }
    ReleaseThreadList(&list);
  }
  // The exit cannot finish: the process ends here, with the leak status even if every thread
  // left was suppressed (the program's own exit was going to hang).
  (void)leaks;
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

}  // namespace threadleak

using namespace threadleak;

THREADLEAK_EXPORT int __libc_start_main(MainFn main, int argc, char** argv, void (*init)(),
                                        void (*fini)(), void (*rtld_fini)(), void* stack_end) {
  EnsureRuntimeInitialized();  // (done already: preloaded libraries' constructors ran first)
  if (RuntimeInert()) {
    return Real().libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
  }
  g_program_main = main;
  // The loader's finalizer runs last of all exit handlers (it was registered first): the check
  // runs right after it, when every destructor of the program and its libraries is done.
  g_loader_fini = rtld_fini;
  return Real().libc_start_main(MainWrapper, argc, argv, init, fini,
                                rtld_fini != nullptr ? LoaderFiniThenCheck : nullptr, stack_end);
}

THREADLEAK_EXPORT void exit(int status) {
  BeginExit(status);
  Real().exit(status);
  __builtin_unreachable();
}

THREADLEAK_EXPORT int __cxa_atexit(void (*destructor)(void*), void* object, void* dso_handle) {
  NoteDestroyedAtExit(object);
  return Real().cxa_atexit(destructor, object, dso_handle);
}
