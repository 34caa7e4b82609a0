// libthreadleak_report.so: loaded by the shim (RTLD_LOCAL) when it makes its first report, so
// libdw, libstdc++ and their dependencies cost nothing to a program until then.
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "preload/diagnostics.h"
#include "preload/report/json_report.h"
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

extern "C" __attribute__((visibility("default"))) int threadleak_write_report(
    const tl_snapshot* snapshot, const tl_report_config* config) {
  try {
    threadleak::FrameOptions options;
    options.symbolize = config->symbolize != 0;
    if (config->strip_path_prefix != nullptr) options.strip_path_prefix = config->strip_path_prefix;
    auto threads = threadleak::SymbolizeThreads(*snapshot, SymbolizerFor(*config), options);
    std::string report = config->format == TL_FORMAT_JSON
                             ? threadleak::RenderJsonReport(*snapshot, threads)
                             : threadleak::RenderTextReport(*snapshot, threads);
    if (!threadleak::WriteAll(config->fd, report)) return -1;
    return snapshot->kind == TL_REPORT_LEAKS ? static_cast<int>(threads.size()) : 0;
  } catch (const std::exception&) {
    return -1;  // the shim falls back to its plain report
  }
}
