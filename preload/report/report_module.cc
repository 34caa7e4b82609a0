// libthreadleak_report.so: loaded by the shim (RTLD_LOCAL) when it makes its first report, so
// libdw, libstdc++ and their dependencies cost nothing to a program until then.
#include <exception>

#include "preload/diagnostics.h"
#include "preload/report/json_report.h"
#include "preload/report/text_report.h"
#include "symbolizer/symbolizer.h"

extern "C" __attribute__((visibility("default"))) int threadleak_write_report(
    const tl_snapshot* snapshot, const tl_report_config* config) {
  try {
    static threadleak::Symbolizer symbolizer;  // kept across reports: its cache stays warm
    auto threads = threadleak::SymbolizeThreads(*snapshot, symbolizer);
    std::string report = config->format == TL_FORMAT_JSON
                             ? threadleak::RenderJsonReport(*snapshot, threads)
                             : threadleak::RenderTextReport(*snapshot, threads);
    return threadleak::WriteAll(config->fd, report) ? 0 : -1;
  } catch (const std::exception&) {
    return -1;  // the shim falls back to its plain report
  }
}
