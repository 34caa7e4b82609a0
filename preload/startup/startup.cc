#include "preload/startup/startup.h"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <atomic>

#include "preload/capture/departed_modules.h"
#include "preload/capture/process_memory.h"
#include "preload/capture/thread_scan.h"
#include "preload/capture/unwinder.h"
#include "preload/config/child_environment.h"
#include "preload/config/options.h"
#include "preload/config/suppressions.h"
#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/lock_waits.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/runtime.h"
#include "preload/handoff/report_destination.h"
#include "preload/handoff/report_output.h"
#include "preload/handoff/report_writer.h"
#include "preload/io/diagnostics.h"
#include "preload/startup/straight_to_libc.h"
#include "preload/triggers/exit_check.h"
#include "preload/triggers/fatal_signals.h"
#include "preload/triggers/monitor_thread.h"
#include "preload/triggers/run_report.h"

// One per copy of the shim: the one the program's symbol lookups find is the copy whose hooks
// the program calls. Exported, so RTLD_DEFAULT finds the first copy loaded globally; it points
// to a local object because a reference to an exported one is itself interposed (every copy
// would see the first one's address as its own).
static constinit const char g_this_copy = 0;
extern "C" __attribute__((visibility("default"))) const void* const __threadleak_shim_instance =
    &g_this_copy;

namespace threadleak {
namespace {

// True when another copy of the shim came first (preloaded twice from two paths, or a dlopen of
// a second copy): its hooks are the ones called, and ours are reached only through its calls to
// the "real" functions. Two working copies would each report the other's threads.
bool AnotherCopyCameFirst() {
  auto first = static_cast<const void* const*>(dlsym(RTLD_DEFAULT, "__threadleak_shim_instance"));
  return first != nullptr && *first != &g_this_copy;
}

// While no lock wait is recorded the two lock hooks only pass the call on: the program's calls
// skip them (straight_to_libc.h).
void BindLocksStraightToLibc(int seccomp_mode) {
  const PassThroughHook hooks[] = {
      {"pthread_mutex_lock", reinterpret_cast<uintptr_t>(threadleak_own_pthread_mutex_lock),
       reinterpret_cast<uintptr_t>(Real().pthread_mutex_lock)},
      {"mtx_lock", reinterpret_cast<uintptr_t>(threadleak_own_mtx_lock),
       reinterpret_cast<uintptr_t>(Real().mtx_lock)},
  };
  BindStraightToLibc(hooks, sizeof(hooks) / sizeof(hooks[0]), seccomp_mode);
}

constinit std::atomic<int> g_init_state{0};  // 0 not started, 1 running, 2 done

void BeforeFork() {
  LifecycleBeforeFork();
}
void AfterForkInParent() {
  LifecycleAfterForkInParent();
}
void AfterForkInChild() {
  AdoptToolState();
  // A report may have been running in another thread (a dump, the watchdog, the exit check's
  // grace period): that thread is not in the child, and neither is its hold on the lock.
  ResetReportLockAfterFork();
  ResetDepartedModulesAfterFork();
  CloseReportDescriptorsAfterFork();
  LifecycleAfterForkInChild();
  ResetExitCheckAfterFork();
  ResetCurrentTidAfterFork();
}

// Whether an ELF object carries a note named "Go" (the Go build ID every Go linker writes).
// Read from the loaded image: no dlsym, whose failure would leave a dlerror buffer behind on
// this thread.
int FindGoNote(dl_phdr_info* info, size_t, void* found) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) continue;
    auto at = static_cast<uintptr_t>(info->dlpi_addr + segment.p_vaddr);
    const uintptr_t end = at + segment.p_memsz;
    while (at + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(at);
      const char* name = reinterpret_cast<const char*>(note + 1);
      // "Go" NUL-terminated, padded to four bytes by the Go linker.
      if ((note->n_namesz == 3 || note->n_namesz == 4) && memcmp(name, "Go", 3) == 0) {
        *static_cast<bool*>(found) = true;
        return 1;
      }
      at += sizeof(ElfW(Nhdr)) + ((note->n_namesz + 3) & ~3u) + ((note->n_descsz + 3) & ~3u);
    }
  }
  return 1;  // the program is the first object: nothing else to look at
}

// A Go program (built with cgo, so the shim is loaded at all) ends through its runtime's raw
// exit_group: no exit(), no destructor, nothing of the shim runs then. Rather than let a run pass
// unchecked in silence, say so once; dumps, the watchdog and the time limit still work.
void SayIfGoDecidesTheExit() {
  bool go = false;
  dl_iterate_phdr(FindGoNote, &go);
  if (!go) return;
  WriteDiagnosticLine(
      "threadleak: a Go program ends through the Go runtime, not exit(): its threads are not "
      "checked at exit (dumps, the watchdog and timeout_ms work)");
}

void Initialize() {
  ToolScope scope;
  ResolveRealFunctions();
  // Secure execution (set-user-ID, set-group-ID, file capabilities): the environment is the
  // invoking user's and the files would be written with the program's privileges. The loader
  // ignores LD_PRELOAD paths there, but /etc/ld.so.preload, a dlopen() or a set-user-ID copy
  // in a system directory still bring the shim in: it then passes every call straight through
  // and says nothing (the hooks' records stay empty, no thread, no report, no file). So does
  // a second copy of the shim.
  if (getauxval(AT_SECURE) != 0 || AnotherCopyCameFirst()) {
    MarkRuntimeInert();
    return;
  }
  AdoptToolState();
  // A filter inherited from whoever started the process: the hooks never see it installed, and
  // it may kill the process for calls the program never makes (process_memory.h,
  // straight_to_libc.h).
  const int seccomp_mode = SeccompMode();
  ChooseMemoryReader(seccomp_mode);
  RememberStandardStreams();  // before the first warning: fd 2 as the program got it
  InitGlobalOptions();
  InitReportDestinations();
  InitReportWriter();
  if (!GlobalOptions().follow_children) DropShimFromChildEnvironment();
  LoadGlobalSuppressions();
  if (GlobalOptions().help) PrintOptionsHelp(STDERR_FILENO);
  // The monitor thread hears of the program's last thread ending (after main ended without
  // exit(): it must not keep the process alive) and of an exit beginning (it watches it).
  StartThreadLifecycle(StopMonitor);
  ListenForExitBegan(NoteExitBegan);
  LoadUnwinder();
  RememberMutexLockRange();
  SetLockWaitRecording(GlobalOptions().watchdog_ms > 0);
  if (!LockWaitRecording()) BindLocksStraightToLibc(seccomp_mode);
  RegisterMainThread();
  pthread_atfork(BeforeFork, AfterForkInParent, AfterForkInChild);
  if (GlobalOptions().dump_on_fatal) InstallFatalSignalDumps();
  StartMonitorIfNeeded(/*at_start=*/true);
  SayIfGoDecidesTheExit();
}

__attribute__((constructor)) void InitializeAtLoad() {
  EnsureRuntimeInitialized();
}

__attribute__((destructor)) void CheckAtUnload() {
  // The shim's own finalizer, inside the loader's: the check runs after that one returns
  // (exit_check.h), unless the shim never saw __libc_start_main (loaded by dlopen, or a program
  // started without it): then here, still better late than never.
  if (!CheckFollowsTheLoadersFinalizer()) RunExitCheck(0);
}

}  // namespace

void EnsureRuntimeInitialized() {
  if (g_init_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (g_init_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    Initialize();
    g_init_state.store(2, std::memory_order_release);
    return;
  }
  while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
}

pid_t ForkWithoutHandlers(pid_t (*real_fork)()) {
  if (t_in_tool || g_init_state.load(std::memory_order_acquire) != 2 || RuntimeInert()) {
    return real_fork();
  }
  ToolScope scope;  // a signal handler on this thread passes through while the registry is held
  BeforeFork();
  pid_t pid = real_fork();
  if (pid == 0) {
    AfterForkInChild();
  } else {
    AfterForkInParent();
  }
  return pid;
}

}  // namespace threadleak
