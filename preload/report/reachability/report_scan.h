// The reachability scan as a report asks for it (preload/report/reachability/reachability.h): which
// reports prove, the names of globals on the paths it finds, and watchdog_abandoned's "newly
// abandoned". Runs in the report writer, reading the program from outside.
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_REPORT_SCAN_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_REPORT_SCAN_H_

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/reachability/reachability.h"

namespace threadleak {

// The scan, for a report of `snapshot` that proves (exit and API reports, dumps and watchdog
// reports with leak_scan=1), reading the program through `target` (a pid or a live tid of it);
// nullopt when it is not asked for or nothing waits for another thread.
std::optional<Reachability> ScanForReport(const tl_snapshot& snapshot,
                                          const tl_report_config& config, pid_t target);

// watchdog_abandoned (TL_REPORT_ABANDONED): the threads the scan proved abandoned whose (tid,
// wait) no earlier report named; `reported` is updated. False when there are none.
struct AbandonedReport {
  tl_snapshot snapshot{};
  std::vector<tl_thread> threads;
  Reachability reach;
};
bool KeepNewlyAbandoned(const tl_snapshot& all, const std::optional<Reachability>& scanned,
                        std::set<std::pair<int32_t, uint64_t>>* reported, AbandonedReport* out);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_REPORT_SCAN_H_
