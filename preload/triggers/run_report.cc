#include "preload/triggers/run_report.h"

#include <algorithm>

#include "preload/core/clock.h"
#include "preload/core/real_functions.h"
#include "preload/core/spin_lock.h"
#include "preload/handoff/report_output.h"

namespace threadleak {
namespace {

constinit SpinLock g_report_lock;

// Collects, then keeps what the run selects.
bool CollectSelected(const ReportRun& run, ThreadList* list) {
  if (!CollectThreads(run.filter, list)) return false;
  if (run.select == nullptr) return true;
  size_t kept = 0;
  for (size_t i = 0; i < list->count; ++i) {
    if (run.select(&list->threads[i], run.select_context)) list->threads[kept++] = list->threads[i];
  }
  list->count = kept;
  return true;
}

// Collects until no selected thread is left or `grace_ns` has passed, retrying with backoff
// (1 µs, doubling up to 100 ms, like goleak's retries): a thread just woken gets the chance to
// finish. Returns whether any thread (or a thread created but not started yet) is left.
bool AnyLeftAfter(const ReportRun& run, int64_t grace_ns) {
  const int64_t deadline = MonotonicNanos() + grace_ns;
  int64_t backoff = 1'000;
  for (;;) {
    ThreadList list;
    if (!CollectSelected(run, &list)) return true;  // let the report say what it can
    const bool left = list.count > 0 || list.unstarted > 0;
    ReleaseThreadList(&list);
    if (!left) return false;
    const int64_t remaining = deadline - MonotonicNanos();
    if (remaining <= 0) return true;
    SleepNanos(std::min(backoff, remaining));
    backoff = std::min<int64_t>(backoff * 2, 100'000'000);
  }
}

bool TakeLock(int64_t wait_ns) {
  if (wait_ns < 0) {
    g_report_lock.Lock();
    return true;
  }
  const int64_t deadline = MonotonicNanos() + wait_ns;
  while (!g_report_lock.TryLock()) {
    if (MonotonicNanos() >= deadline) return false;
    SleepNanos(1'000'000);
  }
  return true;
}

// Collects under the lock and reports. `count_only`: the writer only counts what the rules leave.
int CollectAndReport(const ReportRun& run, bool count_only) {
  if (!TakeLock(run.lock_wait_ns)) return -1;
  int result = -1;
  ThreadList list;
  if (CollectSelected(run, &list)) {
    if (list.count == 0 && run.kind != TL_REPORT_DUMP) {
      result = 0;
    } else {
      result = ReportCollected(run.trigger, run.kind, &list, count_only ? kCountOnly : run.fd,
                               run.copy_fd, run.fatal_signal);
    }
  }
  ReleaseThreadList(&list);
  g_report_lock.Unlock();
  return result;
}

}  // namespace

int RunReport(const ReportRun& run) {
  if (run.grace_ns > 0) {
    int64_t waited = 0;
    if (run.first_look_ns >= 0 && run.first_look_ns < run.grace_ns) {
      waited = run.first_look_ns;
      if (!AnyLeftAfter(run, waited)) return 0;
      // Threads still alive after a first look: if the rules suppress every one, there is
      // nothing to wait for.
      if (CollectAndReport(run, /*count_only=*/true) == 0) return 0;
    }
    if (!AnyLeftAfter(run, run.grace_ns - waited)) return 0;
  }
  return CollectAndReport(run, /*count_only=*/false);
}

void ResetReportLockAfterFork() {
  g_report_lock.ResetAfterFork();
}

}  // namespace threadleak
