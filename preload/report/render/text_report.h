// The goleak-style text report: one block per thread, then a SUMMARY line. The shape is fixed so
// people can grep it and diff it:
//
//   threadleak: found 1 unexpected thread at exit
//   [Thread 4242 "worker" in state cond (condition variable 0x55d0c8a0, blocked 2.01 s), with
//   Writer::process() on top of the stack:
//       #0 Writer::process() at writer.cc:31
//    created by Writer::Writer() in thread 4240 "main":
//       #0 Writer::Writer() at writer.cc:20
//   ]
//   SUMMARY: threadleak: 1 leaked thread (1 cond)
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_TEXT_REPORT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_TEXT_REPORT_H_

#include <string>
#include <vector>

#include "preload/report/report_context.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {

std::string RenderTextReport(const ReportContext& context);

// The same with no suppression (every thread is shown), for tools that render a snapshot as is.
std::string RenderTextReport(const tl_snapshot& snapshot,
                             const std::vector<SymbolizedThread>& threads);

// "threadleak: suppressions used:" with one line per rule that matched: count, rule, source.
// Written after the text report when print_suppressions=1.
std::string RenderSuppressionUse(const ReportContext& context);

// "1.23 s", "45 ms": how long a thread has been blocked.
std::string FormatDuration(int64_t nanos);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_TEXT_REPORT_H_
