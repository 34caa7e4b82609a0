// Where a report goes and who writes it. The shim opens the destination (log_path) and hands the
// snapshot to libthreadleak_report.so, loaded from the shim's own directory on the first report;
// if that module cannot be loaded, a plain report with raw addresses is written instead, so a
// report is never lost.
#ifndef THREADLEAK_PRELOAD_REPORT_OUTPUT_H_
#define THREADLEAK_PRELOAD_REPORT_OUTPUT_H_

#include <cstddef>

#include "preload/snapshot.h"

namespace threadleak {

// Writes one report of `threads`. Not for signal handlers.
void WriteReport(uint32_t trigger, const tl_thread* threads, size_t count);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_OUTPUT_H_
