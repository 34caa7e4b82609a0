// The JSON report: one object on one line (JSON Lines), so a log can hold many. Field names and
// state names are a stable interface; scripts and CI systems parse them.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_JSON_REPORT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_JSON_REPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "preload/report/report_context.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {

// Ends with a newline.
std::string RenderJsonReport(const ReportContext& context);

// The same with no suppression, for tools that render a snapshot as is.
std::string RenderJsonReport(const tl_snapshot& snapshot,
                             const std::vector<SymbolizedThread>& threads);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_JSON_REPORT_H_
