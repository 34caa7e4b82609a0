// Rendering a DOT graph to SVG with Graphviz's `dot`, run as a separate program.
#ifndef THREADLEAK_TOOLS_REPORT_GRAPHVIZ_H_
#define THREADLEAK_TOOLS_REPORT_GRAPHVIZ_H_

#include <optional>
#include <string>

namespace threadleak::report_tool {

// The <svg> element `dot -Tsvg` draws for `dot_source` (the XML prolog and doctype dropped, so
// it can sit inside an HTML page); nullopt with *why set when `dot_program` cannot be run or
// fails.
std::optional<std::string> RenderSvg(const std::string& dot_program, const std::string& dot_source,
                                     std::string* why);

}  // namespace threadleak::report_tool

#endif  // THREADLEAK_TOOLS_REPORT_GRAPHVIZ_H_
