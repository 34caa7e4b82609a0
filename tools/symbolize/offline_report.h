// Offline symbolization of threadleak's JSON reports: the engine of threadleak-symbolize.
//
// A report written with symbolize=0 carries raw frames — pc, module path, build-id, offset — and
// no names. Here each such frame is named from the module's file (found by build-id among the
// binaries and debug directories given, or at its path), expanded into its inlined calls, and
// the report written again: as JSON (the same object, every other field untouched) or as the
// text report the process would have printed, by the report module's own renderers.
//
// Frames already named (a report written with symbolize=1) are named again the same way, so the
// output never depends on which the input was; a frame whose module cannot be found is kept as
// it came.
//
// Not thread-safe (the symbolizer is, this is not). Allocates; throws nothing but
// std::bad_alloc.
#ifndef THREADLEAK_TOOLS_SYMBOLIZE_OFFLINE_REPORT_H_
#define THREADLEAK_TOOLS_SYMBOLIZE_OFFLINE_REPORT_H_

#include <string>

#include "symbolizer/symbolizer.h"

namespace threadleak {

struct OfflineReportOptions {
  bool text = false;              // the text report instead of JSON
  std::string strip_path_prefix;  // removed from the start of source file paths
};

// One line of input. A threadleak JSON report becomes the symbolized report (JSON: one line
// ending in '\n'; text: the whole text report). Any other line comes back as it was, newline
// added, so a log with reports among other output can be piped through.
std::string SymbolizeReportLine(const std::string& line, Symbolizer& symbolizer,
                                const OfflineReportOptions& options);

}  // namespace threadleak

#endif  // THREADLEAK_TOOLS_SYMBOLIZE_OFFLINE_REPORT_H_
