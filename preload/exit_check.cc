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

constinit std::atomic<bool> g_exit_checked{false};
constinit MainFn g_program_main = nullptr;

int MainWrapper(int argc, char** argv, char** envp) {
  if (GlobalOptions().ignore_existing) MarkExistingThreads();
  int status = g_program_main(argc, argv, envp);
  RunExitCheck(status);
  return status;
}

}  // namespace

void RunExitCheck(int status) {
  if (t_in_tool || g_exit_checked.exchange(true)) return;
  EnsureRuntimeInitialized();
  if (RuntimeInert()) return;
  ToolScope scope;
  SpinLockGuard guard(g_report_lock);  // a dump in progress finishes first
  const Options& options = GlobalOptions();
  ThreadList list;
  CollectFilter filter{.exclude_existing = options.ignore_existing};
  if (!CollectWithGrace(filter, options.linger_ms * 1'000'000, &list) || list.count == 0) {
    ReleaseThreadList(&list);
    return;
  }
  int leaks = ReportCollected(TL_TRIGGER_EXIT, TL_REPORT_LEAKS, &list);
  ReleaseThreadList(&list);
  if (leaks == 0) return;  // every thread still alive is suppressed
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
