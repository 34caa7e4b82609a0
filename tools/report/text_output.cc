#include <map>

#include "tools/report/outputs.h"

namespace threadleak::report_tool {
namespace {

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string Deadlocked(const Analysis& analysis) {
  if (analysis.deadlocked_threads == 0) return "";
  return " (" + std::to_string(analysis.deadlocked_threads) + " deadlocked)";
}

std::string RenderText(const Analysis& analysis) {
  std::string out = "threadleak: " + Count(analysis.processes, "process", "processes") + ", " +
                    Count(analysis.leaked_threads, "leaked thread", "leaked threads") +
                    Deadlocked(analysis) + ", " +
                    Count(analysis.leak_groups, "distinct leak", "distinct leaks");
  if (analysis.threads > analysis.leaked_threads) {
    out += " (" + Count(analysis.threads, "thread", "threads") + " listed)";
  }
  out += "\n";
  std::map<std::string, size_t> by_state;
  for (const ThreadGroup& group : analysis.groups) {
    out += GroupText(group);
    if (group.leak) by_state[group.state] += group.members.size();
  }
  if (analysis.leaked_threads == 0) {
    return out + "SUMMARY: threadleak: no leaked threads in " +
           Count(analysis.processes, "process", "processes") + "\n";
  }
  out +=
      "SUMMARY: threadleak: " + Count(analysis.leaked_threads, "leaked thread", "leaked threads") +
      " in " + Count(analysis.leak_groups, "distinct leak", "distinct leaks") + " (";
  size_t n = 0;
  for (const auto& [state, count] : by_state) {
    out += (n++ ? ", " : "") + std::to_string(count) + " " + state;
  }
  return out + ")\n";
}

}  // namespace threadleak::report_tool
