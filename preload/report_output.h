// Where a report goes and who writes it. The shim opens the destination (log_path, for that
// report only: report_destination.h) and hands the snapshot to libthreadleak_report.so, loaded
// from the shim's own directory on the first report; if that module cannot be loaded, a plain
// report with raw addresses is written instead, so a report is never lost.
#ifndef THREADLEAK_PRELOAD_REPORT_OUTPUT_H_
#define THREADLEAK_PRELOAD_REPORT_OUTPUT_H_

#include <cstddef>

#include "preload/snapshot.h"

namespace threadleak {

// Fills the stacks of threads that are not running (tl_thread::unwind) by unwinding them from
// this thread, with the report module. Returns false if the module is unavailable. Not for
// signal handlers.
bool UnwindStacks(tl_thread* threads, size_t count);

// `copy_fd`: the report also goes there, first (a `threadleak dump` that asked for it).
// Writes one report of `threads` to the log destination (or the next that works, see
// report_destination.h), or to `fd` when it is >= 0. Returns the number of threads the report
// counts as leaked (suppressed ones are not). Not for signal handlers.
int WriteReport(uint32_t trigger, uint32_t kind, const tl_thread* threads, size_t count,
                int fd = -1, int copy_fd = -1);

// In a fork child: closes the descriptor of a report its parent was writing.
void CloseReportDestinationAfterFork();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_OUTPUT_H_
