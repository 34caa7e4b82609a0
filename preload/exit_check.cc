#include "preload/exit_check.h"

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "preload/blockers.h"
#include "preload/clock.h"
#include "preload/guard.h"
#include "preload/object_touches.h"
#include "preload/options.h"
#include "preload/real_functions.h"
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

constinit std::atomic<bool> g_exit_checked{false};
constinit MainFn g_program_main = nullptr;

void SleepNanos(int64_t nanos) {
  timespec pause = {static_cast<time_t>(nanos / 1'000'000'000),
                    static_cast<long>(nanos % 1'000'000'000)};
  Real().nanosleep(&pause, nullptr);
}

// Collects the threads still alive, retrying with backoff (like goleak) while the grace period
// lasts: a thread the exit path has just woken must get the chance to finish.
bool CollectSurvivors(int64_t linger_ns, ThreadList* list) {
  const int64_t deadline = MonotonicNanos() + linger_ns;
  int64_t backoff = 1'000;  // 1 µs, doubling up to 100 ms
  for (;;) {
    if (!CollectThreads(/*include_main_thread=*/false, list)) return false;
    if (list->count == 0) return true;
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) return true;
    ReleaseThreadList(list);
    SleepNanos(std::min(backoff, left));
    backoff = std::min<int64_t>(backoff * 2, 100'000'000);
  }
}

int MainWrapper(int argc, char** argv, char** envp) {
  int status = g_program_main(argc, argv, envp);
  RunExitCheck(status);
  return status;
}

}  // namespace

void RunExitCheck(int status) {
  if (t_in_tool || g_exit_checked.exchange(true)) return;
  EnsureRuntimeInitialized();
  ToolScope scope;
  SpinLockGuard guard(g_report_lock);  // a dump in progress finishes first
  const Options& options = GlobalOptions();
  ThreadList list;
  if (!CollectSurvivors(options.linger_ms * 1'000'000, &list) || list.count == 0) {
    ReleaseThreadList(&list);
    return;
  }
  ClassifyAndName(&list);
  ReadBlockers(&list, CurrentTid());
  SampleStacks(list.threads, list.count);
  ConfirmBlockers(&list);
  WriteReport(TL_TRIGGER_EXIT, list.threads, list.count);
  ReleaseThreadList(&list);
  FlushStdioWithoutBlocking();
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
  g_exit_checked.store(false, std::memory_order_relaxed);
}

}  // namespace threadleak

using namespace threadleak;

THREADLEAK_EXPORT int __libc_start_main(MainFn main, int argc, char** argv, void (*init)(),
                                        void (*fini)(), void (*rtld_fini)(), void* stack_end) {
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
