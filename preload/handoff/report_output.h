// Where a report goes and who renders it. The report writer, a process of its own
// (report_writer.h), unwinds the blocked threads and renders the report; the shim opens the
// destination (log_path, for that report only: report_destination.h) and writes it there. If the
// writer cannot run, a plain report with raw addresses is written instead, so a report is never
// lost.
#ifndef THREADLEAK_PRELOAD_HANDOFF_REPORT_OUTPUT_H_
#define THREADLEAK_PRELOAD_HANDOFF_REPORT_OUTPUT_H_

#include <cstddef>

#include "preload/core/snapshot.h"

namespace threadleak {

class ReportWriter;

// As WriteReport's `fd`: render the report, count its leaks, write it nowhere.
inline constexpr int kCountOnly = -2;

// Writes one report of `threads` (a `kind` report) to the log destination (or the next that
// works, see report_destination.h), or to `fd` when it is >= 0 (nowhere for kCountOnly); `copy_fd`,
// when >= 0, gets it too, first (a `threadleak dump` that asked for it). Returns the number of
// threads the report counts as leaked (suppressed ones are not). Not for signal handlers.
int WriteReport(ReportWriter* writer, uint32_t kind, const tl_thread* threads, size_t count,
                int fd = -1, int copy_fd = -1);

// In a fork child: closes the descriptors of a report its parent was making.
void CloseReportDescriptorsAfterFork();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_HANDOFF_REPORT_OUTPUT_H_
