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
#include "preload/runtime.h"
#include "preload/stack_sampler.h"
#include "preload/thread_collector.h"

#define THREADLEAK_EXPORT extern "C" __attribute__((visibility("default")))

// glibc's list of open streams (exported, declared only in its internal headers).
extern "C" FILE* _IO_list_all;

namespace threadleak {
namespace {

// The check runs once per process, in whichever thread gets there first; a thread that calls
// exit() while it runs waits for its outcome (the report, or the exit going on), as glibc's
// exit() makes a second caller wait, and is no leak itself.
enum ExitCheckState : uint32_t { kNotChecked, kChecking, kChecked };
constinit std::atomic<uint32_t> g_exit_check{kNotChecked};  // a futex word
constinit std::atomic<int32_t> g_waiting_tids[32] = {};     // threads waiting for the check
constinit MainFn g_program_main = nullptr;

int MainWrapper(int argc, char** argv, char** envp) {
  if (GlobalOptions().ignore_existing) MarkExistingThreads();
  int status = g_program_main(argc, argv, envp);
  RunExitCheck(status);
  return status;
}

// Waits until the check another thread runs is over. If it reported leaks the process ends
// there, and this never returns.
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
  while (g_exit_check.load(std::memory_order_acquire) == kChecking) {
    Real().syscall(SYS_futex, &g_exit_check, FUTEX_WAIT_PRIVATE, kChecking, nullptr, nullptr, 0);
  }
  if (slot != nullptr) slot->store(0, std::memory_order_relaxed);
}

bool WaitsForTheCheck(int32_t tid) {
  for (const std::atomic<int32_t>& waiting : g_waiting_tids) {
    if (waiting.load(std::memory_order_relaxed) == tid) return true;
  }
  return false;
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

}  // namespace

void RunExitCheck(int status) {
  if (t_in_tool) return;
  EnsureRuntimeInitialized();
  // A vfork child shares its parent's memory: nothing it writes may land in the parent's state
  // (the "checked" flag above all), and the parent's threads are not its own.
  if (RuntimeInert() || !OwnsToolState() || RuntimeSandboxed()) return;
  uint32_t expected = kNotChecked;
  if (!g_exit_check.compare_exchange_strong(expected, kChecking, std::memory_order_acq_rel)) {
    if (expected == kChecking) WaitForTheCheck();
    return;
  }
  ToolScope scope;
  const Options& options = GlobalOptions();
  int leaks = 0;
  {
    SpinLockGuard guard(g_report_lock);  // a dump in progress finishes first
    ThreadList list;
    CollectFilter filter{.exclude_existing = options.ignore_existing};
    if (CollectSurvivors(filter, options.linger_ms * 1'000'000, &list) && list.count > 0) {
      leaks = ReportCollected(TL_TRIGGER_EXIT, TL_REPORT_LEAKS, &list);
    }
    ReleaseThreadList(&list);
  }
  if (leaks == 0) return FinishCheck();  // none, or every thread still alive is suppressed
  FlushStdioWithoutBlocking();
  // Staging mode keeps the program's own status: the report is what the user wanted, and a
  // service stopped with SIGTERM must end as it would without the tool. The process still
  // ends here, as in the test-run mode, so no destructor can hang on a leaked thread.
  if (options.staging) _exit(status);
  _exit(status != 0 ? status : static_cast<int>(options.exitcode));
}

// fflush(NULL) would lock every stream, and a leaked thread blocked in fgets() holds the lock of
// stdin forever. Like exit() itself, flush only streams with pending output, and skip any whose
// lock is taken.
void FlushStdioWithoutBlocking() {
  for (FILE* stream = reinterpret_cast<FILE*>(_IO_list_all); stream != nullptr;
       stream = stream->_chain) {
    if (stream->_IO_write_ptr <= stream->_IO_write_base) continue;
    if (ftrylockfile(stream) != 0) continue;
    fflush_unlocked(stream);
    funlockfile(stream);
  }
}

void ResetExitCheckAfterFork() {
  // The child's only thread is the one that forked: none of its parent's threads waits in it.
  g_exit_check.store(kNotChecked, std::memory_order_relaxed);
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
  return Real().libc_start_main(MainWrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

THREADLEAK_EXPORT void exit(int status) {
  RunExitCheck(status);
  Real().exit(status);
  __builtin_unreachable();
}

THREADLEAK_EXPORT int __cxa_atexit(void (*destructor)(void*), void* object, void* dso_handle) {
  NoteDestroyedAtExit(object);
  return Real().cxa_atexit(destructor, object, dso_handle);
}
