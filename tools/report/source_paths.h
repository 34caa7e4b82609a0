// Source paths as CI systems want them: relative to the checkout (the source root) where they
// are under it.
#ifndef THREADLEAK_TOOLS_REPORT_SOURCE_PATHS_H_
#define THREADLEAK_TOOLS_REPORT_SOURCE_PATHS_H_

#include <string>

namespace threadleak::report_tool {

// `file` relative to `source_root` (absolute, ending in '/') when it is under it; else as is.
std::string RelativeToRoot(const std::string& file, const std::string& source_root);

// A URI reference for a SARIF artifactLocation: relative (to %SRCROOT%) under the root, a
// file:// URI for other absolute paths; reserved characters percent-encoded.
std::string SourceUri(const std::string& file, const std::string& source_root, bool* relative);

}  // namespace threadleak::report_tool

#endif  // THREADLEAK_TOOLS_REPORT_SOURCE_PATHS_H_
