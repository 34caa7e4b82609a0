// libthreadleak_report.so: loaded by the shim (RTLD_LOCAL) when it makes its first report, so
// libdw, libstdc++ and their dependencies cost nothing to a program until then.
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "preload/diagnostics.h"
#include "preload/report/blocked_stacks.h"
#include "preload/report/json_report.h"
#include "preload/report/pprof_report.h"
#include "preload/report/report_context.h"
#include "preload/report/suppression_rules.h"
#include "preload/report/text_report.h"
#include "symbolizer/symbolizer.h"

namespace {

// One symbolizer per set of options that change its answers, kept across reports so its caches
// stay warm. Options do not change within a run; should they, the other answers stay valid.
threadleak::Symbolizer& SymbolizerFor(const tl_report_config& config) {
  static std::mutex mutex;
  static auto* symbolizers =
      new std::map<std::pair<bool, bool>, std::unique_ptr<threadleak::Symbolizer>>();
  const bool demangle = config.demangle != 0;
  const bool debuginfod = config.debuginfod != 0;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<threadleak::Symbolizer>& symbolizer = (*symbolizers)[{demangle, debuginfod}];
  if (symbolizer == nullptr) {
    threadleak::SymbolizerOptions options;
    options.demangle = demangle;
    options.debuginfod = debuginfod;
    symbolizer = std::make_unique<threadleak::Symbolizer>(std::move(options));
  }
  return *symbolizer;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void threadleak_unwind_stacks(tl_thread* threads,
                                                                                uint32_t count) {
  try {
    threadleak::UnwindBlockedStacks(threads, count);
  } catch (const std::exception&) {
    // Out of memory: the threads not reached keep no stack; the report still comes.
  }
}

extern "C" __attribute__((visibility("default"))) int threadleak_write_report(
    const tl_snapshot* snapshot, const tl_report_config* config) {
  try {
    threadleak::FrameOptions options;
    options.symbolize = config->symbolize != 0;
    if (config->strip_path_prefix != nullptr) options.strip_path_prefix = config->strip_path_prefix;
    threadleak::ReportContext context = threadleak::MakeReportContext(
        *snapshot, threadleak::SymbolizeThreads(*snapshot, SymbolizerFor(*config), options),
        threadleak::ActiveSuppressions(*config));
    bool leak_report = snapshot->kind == TL_REPORT_LEAKS;
    size_t leaks = leak_report ? context.LeakCount() : 0;
    context.print_suppressions = leak_report && config->print_suppressions;
    bool json = config->format == TL_FORMAT_JSON;
    std::string report;
    // A leak report whose threads are all suppressed is no report — nothing leaked — unless
    // the user asked to see which rules were used.
    if (!leak_report || leaks > 0 || context.print_suppressions) {
      report = config->format == TL_FORMAT_DOT     ? threadleak::RenderDot(*snapshot, context.graph)
               : config->format == TL_FORMAT_PPROF ? threadleak::RenderPprofReport(context)
               : json                              ? threadleak::RenderJsonReport(context)
                                                   : threadleak::RenderTextReport(context);
    }
    if (context.print_suppressions && config->format == TL_FORMAT_TEXT)
      report += threadleak::RenderSuppressionUse(context);
    if (!report.empty() && config->copy_fd >= 0) threadleak::WriteAll(config->copy_fd, report);
    if (!report.empty()) {
      int fd = config->fd >= 0 ? config->fd : config->open_destination();
      if (!threadleak::WriteAll(fd, report)) return -1;
    }
    return static_cast<int>(leaks);
  } catch (const std::exception&) {
    return -1;  // the shim falls back to its plain report
  }
}
