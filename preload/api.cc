// The C API behind include/threadleak.h: a program (or the GoogleTest listener) marks a point,
// later checks that every thread created since then has ended, and can dump its threads to a
// file descriptor. The header finds these with dlsym, so a program that calls the API still
// runs unchanged without the shim.
#include <stdint.h>

#include "preload/guard.h"
#include "preload/options.h"
#include "preload/registry.h"
#include "preload/report_lock.h"
#include "preload/runtime.h"
#include "preload/thread_collector.h"

#define THREADLEAK_EXPORT extern "C" __attribute__((visibility("default")))

using namespace threadleak;

THREADLEAK_EXPORT uint64_t threadleak_api_mark_v1(void) {
  return g_creation_sequence.load(std::memory_order_acquire);
}

// Reports the threads created after `mark` that are still alive after the grace period
// (`linger_ms`, or the option's value when negative). Returns how many leaked (suppressed ones
// do not count); the report goes where reports go (log_path).
THREADLEAK_EXPORT int threadleak_api_check_v1(uint64_t mark, int linger_ms) {
  if (t_in_tool) return 0;
  EnsureRuntimeInitialized();
  if (RuntimeInert() || !OwnsToolState()) return 0;
  ToolScope scope;
  int64_t grace_ms = linger_ms >= 0 ? linger_ms : GlobalOptions().linger_ms;
  CollectFilter filter{.since_mark = true, .mark = mark};
  ThreadList list;
  // The grace period runs without the report lock: a dump may go on meanwhile.
  if (!CollectWithGrace(filter, grace_ms * 1'000'000, &list) || list.count == 0) {
    ReleaseThreadList(&list);
    return 0;
  }
  ReleaseThreadList(&list);
  SpinLockGuard guard(g_report_lock);
  if (!CollectThreads(filter, &list) || list.count == 0) {
    ReleaseThreadList(&list);
    return 0;
  }
  int leaks = ReportCollected(TL_TRIGGER_API, TL_REPORT_LEAKS, &list);
  ReleaseThreadList(&list);
  return leaks;
}

// Writes a dump of every thread to `fd` (the format option applies). Returns 0, or -1.
THREADLEAK_EXPORT int threadleak_api_dump_v1(int fd) {
  if (t_in_tool || fd < 0) return -1;
  EnsureRuntimeInitialized();
  if (RuntimeInert() || !OwnsToolState()) return -1;
  ToolScope scope;
  SpinLockGuard guard(g_report_lock);
  ThreadList list;
  if (!CollectThreads({.include_main_thread = true}, &list)) return -1;
  ReportCollected(TL_TRIGGER_API, TL_REPORT_DUMP, &list, fd);
  ReleaseThreadList(&list);
  return 0;
}
