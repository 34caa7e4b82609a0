#include "preload/runtime.h"

#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>

#include "preload/exit_check.h"
#include "preload/guard.h"
#include "preload/object_touches.h"
#include "preload/options.h"
#include "preload/real_functions.h"
#include "preload/registry.h"
#include "preload/reporter.h"
#include "preload/suppressions.h"
#include "preload/unwinder.h"

namespace threadleak {
namespace {

constinit std::atomic<int> g_init_state{0};  // 0 not started, 1 running, 2 done
constinit pthread_key_t g_exit_key = 0;

void OnThreadExit(void* value) {
  auto* record = static_cast<ThreadRecord*>(value);
  ToolScope scope;
  prctl(PR_GET_NAME, record->final_name);
  record->wait.state.store(kNotWaiting, std::memory_order_relaxed);
  t_record = nullptr;
  MarkLifecycle(record, kFinished);
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
}

void BeforeFork() {
  RegistryBeforeFork();
}
void AfterForkInParent() {
  RegistryAfterForkInParent();
}
void AfterForkInChild() {
  RegistryAfterForkInChild(t_record, static_cast<int32_t>(gettid()));
  if (t_record != nullptr) {
    // The forking thread is the child's main thread now.
    t_record->lifecycle.fetch_or(kMainThread, std::memory_order_relaxed);
  }
  ResetExitCheckAfterFork();
  ResetCurrentTidAfterFork();
}

void Initialize() {
  ToolScope scope;
  ResolveRealFunctions();
  InitGlobalOptions();
  LoadGlobalSuppressions();
  if (GlobalOptions().help) PrintOptionsHelp(STDERR_FILENO);
  pthread_key_create(&g_exit_key, OnThreadExit);
  LoadUnwinder();
  RegisterMainThread();
  pthread_atfork(BeforeFork, AfterForkInParent, AfterForkInChild);
  StartReporterIfNeeded(/*at_start=*/true);
}

__attribute__((constructor)) void InitializeAtLoad() {
  EnsureRuntimeInitialized();
}

__attribute__((destructor)) void CheckAtUnload() {
  // Reached only when main's return and exit() were never seen (e.g. the last thread called
  // pthread_exit from main): still better late than never.
  RunExitCheck(0);
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

pthread_key_t ThreadExitKey() {
  return g_exit_key;
}

}  // namespace threadleak
