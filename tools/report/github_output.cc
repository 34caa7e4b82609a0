// GitHub Actions workflow commands (docs: "Workflow commands for GitHub Actions"): an error
// annotation per leak, at the line where its threads were started, with the group's text as
// the annotation's body.
#include "tools/report/outputs.h"
#include "tools/report/source_paths.h"

namespace threadleak::report_tool {
namespace {

// A command's message: '%', CR and LF are encoded, so a multi-line text stays one command.
std::string EscapeData(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

// A property value: also ':' and ',', which separate properties.
std::string EscapeProperty(const std::string& text) {
  std::string out;
  for (char c : EscapeData(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string RenderGithub(const Analysis& analysis, const OutputOptions& options) {
  std::string out;
  for (const ThreadGroup& group : analysis.groups) {
    size_t n = group.members.size();
    std::string what = group.verdicts.count("deadlocked") ? "deadlocked"
                       : group.leak                       ? "leaked"
                                                          : "alive";
    std::string title = "threadleak: " + std::to_string(n) + (n == 1 ? " thread " : " threads ") +
                        what + " (" + group.state + ")";
    out += group.leak ? "::error " : "::notice ";
    if (const Frame* site = SourceSite(group, options.source_root); site != nullptr) {
      out += "file=" + EscapeProperty(RelativeToRoot(site->file, options.source_root)) +
             ",line=" + std::to_string(site->line) + ",";
    }
    out += "title=" + EscapeProperty(title) + "::" + EscapeData(GroupText(group)) + "\n";
  }
  return out;
}

}  // namespace threadleak::report_tool
