#include "preload/core/runtime.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>

#include "preload/capture/departed_modules.h"
#include "preload/capture/unwinder.h"
#include "preload/config/child_environment.h"
#include "preload/config/options.h"
#include "preload/config/suppressions.h"
#include "preload/core/guard.h"
#include "preload/core/lock_waits.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/handoff/report_destination.h"
#include "preload/handoff/report_output.h"
#include "preload/handoff/report_writer.h"
#include "preload/io/diagnostics.h"
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

constinit std::atomic<int> g_init_state{0};       // 0 not started, 1 running, 2 done
constinit bool g_inert = false;                   // written once, before g_init_state is 2
constinit std::atomic<int> g_program_threads{1};  // main counts until it ends (not by exit)
constinit std::atomic<bool> g_main_exited{false};
constinit std::atomic<bool> g_sandboxed{false};
constinit pthread_key_t g_exit_key = 0;
// The process whose state the tool's memory holds: set at start-up and in fork children; a vfork
// child sees its parent's.
constinit std::atomic<pid_t> g_process_pid{0};

void OnThreadExit(void* value) {
  auto* record = static_cast<ThreadRecord*>(value);
  // Other keys' destructors run after this one in the same round (keys run in the order they
  // were made): a thread blocked in one of them is alive. Re-armed once, this destructor runs
  // again in a second round, after every other key's first-round destructor, and marks the end
  // then. (Each round costs glibc a scan of every key; a destructor that sets its key again and
  // blocks in a later round is the rare case left out.)
  if (++record->exit_rounds < 2) {
    pthread_setspecific(g_exit_key, record);
    return;
  }
  ToolScope scope;
  prctl(PR_GET_NAME, record->final_name);
  // A wait a cancellation unwound through ends here; the sequence goes on (a new wait would have
  // changed it anyway).
  uint64_t word = record->wait.word.load(std::memory_order_relaxed);
  record->wait.word.store((word & ~uint64_t{0xffff'ffff}) | kNotWaiting, std::memory_order_release);
  t_record = nullptr;
  // Main ends this way only without exit(): pthread_exit, thrd_exit, or a cancellation.
  if (record->lifecycle.load(std::memory_order_relaxed) & kMainThread) {
    g_main_exited.store(true, std::memory_order_release);
  }
  MarkLifecycle(record, kFinished);
  NoteProgramThreadEnded();
}

void RegisterMainThread() {
  // Constructors run on the main thread; a lazy start from another thread skips this.
  if (gettid() != getpid()) return;
  ThreadRecord* record = AllocateRecord();
  if (record == nullptr) return;
  record->tid.store(gettid(), std::memory_order_relaxed);
  record->lifecycle.store(kMainThread | kCreatorReturned, std::memory_order_relaxed);
  PublishHandle(record, pthread_self());
  t_record = record;
  // Its destructor runs if main ends without exit() (pthread_exit, thrd_exit, cancellation).
  pthread_setspecific(g_exit_key, record);
}

void BeforeFork() {
  RegistryBeforeFork();
}
void AfterForkInParent() {
  RegistryAfterForkInParent();
}
void AfterForkInChild() {
  g_process_pid.store(getpid(), std::memory_order_relaxed);
  // A report may have been running in another thread (a dump, the watchdog, the exit check's
  // grace period): that thread is not in the child, and neither is its hold on the lock.
  ResetReportLockAfterFork();
  ResetDepartedModulesAfterFork();
  CloseReportDescriptorsAfterFork();
  RegistryAfterForkInChild(t_record, static_cast<int32_t>(gettid()));
  if (t_record != nullptr) {
    // The forking thread is the child's main thread now.
    t_record->lifecycle.fetch_or(kMainThread, std::memory_order_relaxed);
  }
  ResetExitCheckAfterFork();
  ResetCurrentTidAfterFork();
  g_program_threads.store(1, std::memory_order_relaxed);  // the forking thread, alone
  g_main_exited.store(false, std::memory_order_relaxed);
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
    g_inert = true;
    return;
  }
  g_process_pid.store(getpid(), std::memory_order_relaxed);
  RememberStandardStreams();  // before the first warning: fd 2 as the program got it
  InitGlobalOptions();
  InitReportDestinations();
  InitReportWriter();
  if (!GlobalOptions().follow_children) DropShimFromChildEnvironment();
  LoadGlobalSuppressions();
  if (GlobalOptions().help) PrintOptionsHelp(STDERR_FILENO);
  pthread_key_create(&g_exit_key, OnThreadExit);
  LoadUnwinder();
  RememberMutexLockRange();
  SetLockWaitRecording(GlobalOptions().watchdog_ms > 0);
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

void NoteProgramThreadStarted() {
  g_program_threads.fetch_add(1, std::memory_order_relaxed);
}

void NoteProgramThreadNotStarted() {
  g_program_threads.fetch_sub(1, std::memory_order_relaxed);
}

void NoteProgramThreadEnded() {
  if (g_program_threads.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      g_main_exited.load(std::memory_order_acquire)) {
    StopMonitor();
  }
}

bool RuntimeInert() {
  return g_inert;
}

int ProgramThreadCount() {
  return g_program_threads.load(std::memory_order_acquire);
}

void NoteSeccompFilter() {
  g_sandboxed.store(true, std::memory_order_release);
}

bool RuntimeSandboxed() {
  return g_sandboxed.load(std::memory_order_acquire);
}

bool OwnsToolState() {
  return g_process_pid.load(std::memory_order_relaxed) == getpid();
}

pid_t ForkWithoutHandlers(pid_t (*real_fork)()) {
  if (t_in_tool || g_init_state.load(std::memory_order_acquire) != 2 || g_inert) {
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

pthread_key_t ThreadExitKey() {
  return g_exit_key;
}

}  // namespace threadleak
