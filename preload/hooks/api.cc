// The C API behind include/threadleak.h: a program (or the GoogleTest listener) marks a point,
// later checks that every thread created since then has ended, and can dump its threads to a
// file descriptor. The header finds these with dlsym, so a program that calls the API still
// runs unchanged without the shim.
#include <stdint.h>

#include <algorithm>

#include "preload/capture/thread_collector.h"
#include "preload/config/options.h"
#include "preload/core/guard.h"
#include "preload/core/registry.h"
#include "preload/core/runtime.h"
#include "preload/hooks/export.h"
#include "preload/startup/startup.h"
#include "preload/triggers/run_report.h"

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
  const int64_t grace_ms = linger_ms >= 0 ? linger_ms : GlobalOptions().linger_ms;
  return std::max(RunReport({.trigger = TL_TRIGGER_API,
                             .kind = TL_REPORT_LEAKS,
                             .filter = {.since_mark = true, .mark = mark},
                             .grace_ns = grace_ms * 1'000'000}),
                  0);
}

// Writes a dump of every thread to `fd` (the format option applies). Returns 0, or -1.
THREADLEAK_EXPORT int threadleak_api_dump_v1(int fd) {
  if (t_in_tool || fd < 0) return -1;
  EnsureRuntimeInitialized();
  if (RuntimeInert() || !OwnsToolState()) return -1;
  ToolScope scope;
  const int written = RunReport({.trigger = TL_TRIGGER_API,
                                 .kind = TL_REPORT_DUMP,
                                 .filter = {.include_main_thread = true},
                                 .fd = fd});
  return written < 0 ? -1 : 0;
}
