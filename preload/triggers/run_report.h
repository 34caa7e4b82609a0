// The one way a report is made, whatever asks for it — the exit check, an exit that cannot
// finish, the API, a dump request, the watchdog, the time limit, a fatal signal: give the threads
// their grace period, take the report lock, collect, select, and hand the threads to the report
// pipeline (capture/thread_collector.h, ReportCollected).
//
// One report at a time: reports share the stack sampler and the log file and must never
// interleave. A report can run for a while, and another thread may fork meanwhile: the child,
// whose copy of the lock is held by a thread it does not have, resets it (ResetReportLockAfterFork,
// from fork's child handler and the _Fork hook, startup/startup.cc). A vfork child never reports
// (its memory is its parent's: OwnsToolState in core/runtime.h).
#ifndef THREADLEAK_PRELOAD_TRIGGERS_RUN_REPORT_H_
#define THREADLEAK_PRELOAD_TRIGGERS_RUN_REPORT_H_

#include <cstdint>

#include "preload/capture/thread_collector.h"
#include "preload/core/snapshot.h"

namespace threadleak {

struct ReportRun {
  uint32_t trigger = TL_TRIGGER_EXIT;  // tl_trigger: what asked
  uint32_t kind = TL_REPORT_LEAKS;     // tl_report_kind: what the report lists
  CollectFilter filter;
  // Which collected threads the report speaks of, and how they are marked: returns false to
  // leave `thread` out. Called after every collection (the grace period's too). Null keeps all.
  bool (*select)(tl_thread* thread, void* context) = nullptr;
  void* select_context = nullptr;
  // Leak checks: threads get this long to end (collection retried with backoff, without the
  // report lock, so a dump may go on meanwhile); no report when none is left.
  int64_t grace_ns = 0;
  // With a grace period: after this much of it (>= 0), the rules are asked whether any thread
  // left counts (a count-only pass of the writer); when every one is suppressed, the report ends
  // there, without waiting out the rest (a runtime's threads that live until exit by design).
  int64_t first_look_ns = -1;
  // Where the report goes besides log_path: `fd` instead of it (the API's dump), `copy_fd` as
  // well (a dump requester's pipe). A fatal signal the process dies of, or 0.
  int fd = -1;
  int copy_fd = -1;
  int fatal_signal = 0;
  // How long to wait for a report under way to finish, or -1 to wait as long as it takes. A
  // thread that dies of a signal does not wait for a report that may never end.
  int64_t lock_wait_ns = -1;
};

// Makes the report. Returns the number of threads it counted as leaks (suppressed ones do not
// count), 0 when there was nothing to report (no thread left after the grace period, or every
// one suppressed at the first look), -1 when no report could be made (memory, or the lock not
// free within lock_wait_ns). A dump is written even when it lists no thread.
int RunReport(const ReportRun& run);

// In a fork child: the lock's holder, if any, is a thread the child does not have.
void ResetReportLockAfterFork();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TRIGGERS_RUN_REPORT_H_
