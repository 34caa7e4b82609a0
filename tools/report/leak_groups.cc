#include "tools/report/leak_groups.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <tuple>

namespace threadleak::report_tool {
namespace {

std::string ModuleBaseName(const std::string& module) {
  size_t slash = module.rfind('/');
  return slash == std::string::npos ? module : module.substr(slash + 1);
}

// A frame as the grouping sees it: what it is in the source, never where it was loaded.
std::string FrameKey(const Frame& frame, bool with_line) {
  if (frame.function == "??")
    return ModuleBaseName(frame.module) + "+" + std::to_string(frame.offset);
  if (!with_line || frame.runtime) return frame.function;
  return frame.function + "@" + frame.file + ":" + std::to_string(frame.line);
}

std::string StackKey(const std::vector<Frame>& frames, bool with_lines) {
  std::string key;
  for (const Frame& frame : frames) key += FrameKey(frame, with_lines) + "\n";
  return key;
}

// 64-bit FNV-1a, as 16 hex digits: short, stable, and enough to tell leaks apart.
std::string Hash(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buffer[17];
  snprintf(buffer, sizeof buffer, "%016" PRIx64, hash);
  return buffer;
}

void AppendFrames(std::string& out, const std::vector<Frame>& frames) {
  // The runtime frames above the program's own code fold into one line, as in the shim's text.
  size_t folded = 0;
  while (folded < frames.size() && frames[folded].runtime) ++folded;
  if (folded == frames.size()) folded = 0;
  if (folded > 0) {
    std::vector<std::string> modules;
    for (size_t i = 0; i < folded; ++i) {
      std::string module = ModuleBaseName(frames[i].module);
      if (module != "??" && std::find(modules.begin(), modules.end(), module) == modules.end()) {
        modules.push_back(module);
      }
    }
    out +=
        "    ... " + std::to_string(folded) + (folded == 1 ? " runtime frame" : " runtime frames");
    if (!modules.empty()) {
      out += " (";
      for (size_t i = 0; i < modules.size(); ++i) out += (i ? ", " : "") + modules[i];
      out += ")";
    }
    out += "\n";
  }
  for (size_t i = folded; i < frames.size(); ++i) {
    const Frame& frame = frames[i];
    out += "    #" + std::to_string(i) + " " + frame.function;
    if (!frame.file.empty()) {
      out += " at " + frame.file;
      if (frame.line > 0) out += ":" + std::to_string(frame.line);
    } else if (frame.module != "??") {
      char offset[24];
      snprintf(offset, sizeof offset, "+0x%" PRIx64, frame.offset);
      out += " (" + ModuleBaseName(frame.module) + offset + ")";
    }
    if (frame.inlined) out += " (inlined)";
    out += "\n";
  }
}

std::string JoinQuoted(const std::set<std::string>& words, size_t max) {
  std::string out;
  size_t n = 0;
  for (const std::string& word : words) {
    if (n == max) {
      out += ", …";
      break;
    }
    out += (n++ ? ", \"" : "\"") + word + "\"";
  }
  return out;
}

}  // namespace

bool IsLeak(const Thread& thread) {
  return thread.verdict == "leaked" || thread.verdict == "deadlocked";
}

const Frame* TopUserFrame(const std::vector<Frame>& frames) {
  for (const Frame& frame : frames) {
    if (frame.function != "??" && !frame.runtime) return &frame;
  }
  return nullptr;
}

const Frame* SourceSite(const ThreadGroup& group, const std::string& source_root) {
  const Thread& thread = *group.representative;
  for (bool in_root : {true, false}) {
    if (in_root && source_root.empty()) continue;
    for (const std::vector<Frame>* frames : {&thread.creation, &thread.stack}) {
      for (const Frame& frame : *frames) {
        if (frame.runtime || frame.file.empty() || frame.line <= 0) continue;
        if (in_root && frame.file.compare(0, source_root.size(), source_root) != 0) continue;
        return &frame;
      }
    }
  }
  return nullptr;
}

std::string DescribeNumbers(std::vector<int64_t> numbers, size_t max_runs) {
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  std::string out;
  size_t runs = 0;
  for (size_t i = 0; i < numbers.size();) {
    size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (runs == max_runs) {
      out += ", … (" + std::to_string(numbers.size()) + " in all)";
      break;
    }
    out += (runs ? ", " : "") + std::to_string(numbers[i]);
    if (j > i) out += "-" + std::to_string(numbers[j]);
    ++runs;
    i = j + 1;
  }
  return out;
}

std::string FormatMilliseconds(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  char buffer[32];
  snprintf(buffer, sizeof buffer, "%.3g s", static_cast<double>(ms) / 1000.0);
  return buffer;
}

std::string WaitObjectWord(const std::string& state) {
  static const std::map<std::string, std::string> words = {
      {"mutex", "mutex"},      {"cond", "condition variable"},
      {"rwlock", "rwlock"},    {"sem", "semaphore"},
      {"barrier", "barrier"},  {"join", "thread"},
      {"futex", "futex word"}, {"io", "descriptor"}};
  auto it = words.find(state);
  return it == words.end() ? "" : it->second;
}

std::string GroupTitle(const ThreadGroup& group) {
  const Thread& thread = *group.representative;
  const Frame* top = TopUserFrame(thread.stack);
  const Frame* creator = TopUserFrame(thread.creation);
  std::string title = group.state + " in " + (top ? top->function : std::string("unknown code"));
  if (creator != nullptr) title += ", created by " + creator->function;
  return title;
}

std::string GroupText(const ThreadGroup& group) {
  const Thread& thread = *group.representative;
  std::string out;
  if (group.members.size() == 1) {
    out += "[Thread " + std::to_string(thread.tid) + " of process " +
           std::to_string(group.representative_report->pid);
  } else {
    std::vector<int64_t> pids(group.pids.begin(), group.pids.end());
    out += "[" + std::to_string(group.members.size()) + " threads in " +
           std::to_string(pids.size()) + (pids.size() == 1 ? " process (" : " processes (") +
           DescribeNumbers(pids, 8) + ")";
  }
  if (!group.names.empty()) out += " " + JoinQuoted(group.names, 3);
  out += " in state " + group.state;
  std::string detail;
  std::string word = WaitObjectWord(group.state);
  if (!word.empty()) {
    detail = word;
    if (group.members.size() == 1 && !thread.object.empty()) detail += " " + thread.object;
  }
  if (group.blocked_ms_min >= 0) {
    detail += std::string(detail.empty() ? "" : ", ") + "blocked " +
              (group.blocked_at_least ? "at least " : "") +
              FormatMilliseconds(group.blocked_ms_min);
    if (group.blocked_ms_max != group.blocked_ms_min) {
      detail += " – " + FormatMilliseconds(group.blocked_ms_max);
    }
  }
  if (!detail.empty()) out += " (" + detail + ")";
  if (const Frame* top = TopUserFrame(thread.stack); top != nullptr) {
    out += ", with " + top->function + " on top of the stack";
  }
  out += ":\n";
  if (!thread.reason.empty()) {
    std::string verdict = group.verdicts.count("deadlocked") ? "deadlocked"
                          : thread.certainty == "definite"   ? "definitely " + thread.verdict
                                                             : thread.verdict;
    if (thread.verdict == "leaked" && thread.certainty == "possible") verdict = "possibly leaked";
    out += " " + verdict + ": " + thread.reason + "\n";
  }
  if (!thread.stack_missing.empty()) out += " no stack: " + thread.stack_missing + "\n";
  AppendFrames(out, thread.stack);
  const Frame* creator = TopUserFrame(thread.creation);
  out += " created by " + (creator ? creator->function : std::string("an unknown function"));
  if (!group.tests.empty()) {
    out += ", in test";
    size_t n = 0;
    for (const std::string& test : group.tests) out += (n++ ? ", " : " ") + test;
  }
  out += ":\n";
  AppendFrames(out, thread.creation);
  return out + "]\n";
}

Analysis Analyze(std::vector<ProcessReport> reports, bool everything) {
  Analysis analysis;
  analysis.reports = std::move(reports);
  const std::vector<ProcessReport>& all = analysis.reports;
  std::set<int64_t> pids;
  for (const ProcessReport& report : all) pids.insert(report.pid);
  analysis.processes = pids.size();

  // The last report of a process that lists a thread speaks for it.
  std::map<std::tuple<int64_t, int64_t, std::string>, ThreadRef> latest;
  for (size_t r = 0; r < all.size(); ++r) {
    for (size_t t = 0; t < all[r].threads.size(); ++t) {
      const Thread& thread = all[r].threads[t];
      if (thread.verdict == "ignored") continue;
      if (!everything && !IsLeak(thread)) continue;
      latest[{all[r].pid, thread.tid, StackKey(thread.creation, true)}] = {r, t};
    }
  }
  std::vector<ThreadRef> chosen;
  for (const auto& [key, ref] : latest) chosen.push_back(ref);
  std::sort(chosen.begin(), chosen.end(), [](const ThreadRef& a, const ThreadRef& b) {
    return std::tie(a.report, a.thread) < std::tie(b.report, b.thread);
  });

  std::map<std::string, size_t> group_of;
  for (const ThreadRef& ref : chosen) {
    const ProcessReport& report = all[ref.report];
    const Thread& thread = report.threads[ref.thread];
    std::string key =
        thread.state + "\n" + StackKey(thread.stack, true) + "\n" + StackKey(thread.creation, true);
    auto [it, inserted] = group_of.try_emplace(key, analysis.groups.size());
    if (inserted) {
      ThreadGroup group;
      group.state = thread.state;
      group.representative = &thread;
      group.representative_report = &report;
      group.fingerprint = Hash(thread.state + "\n" + StackKey(thread.stack, false) + "\n" +
                               StackKey(thread.creation, false));
      analysis.groups.push_back(std::move(group));
    }
    ThreadGroup& group = analysis.groups[it->second];
    group.members.push_back(ref);
    group.pids.insert(report.pid);
    if (!thread.test.empty()) group.tests.insert(thread.test);
    if (!thread.name.empty()) group.names.insert(thread.name);
    group.verdicts.insert(thread.verdict);
    if (thread.blocked_ms >= 0) {
      group.blocked_ms_min = group.blocked_ms_min < 0
                                 ? thread.blocked_ms
                                 : std::min(group.blocked_ms_min, thread.blocked_ms);
      group.blocked_ms_max = std::max(group.blocked_ms_max, thread.blocked_ms);
      group.blocked_at_least = group.blocked_at_least || thread.blocked_ms_at_least;
    }
    group.leak = group.leak || IsLeak(thread);
    ++analysis.threads;
    if (IsLeak(thread)) ++analysis.leaked_threads;
    if (thread.verdict == "deadlocked") ++analysis.deadlocked_threads;
  }
  std::stable_sort(analysis.groups.begin(), analysis.groups.end(),
                   [](const ThreadGroup& a, const ThreadGroup& b) {
                     if (a.leak != b.leak) return a.leak;
                     return a.members.size() > b.members.size();
                   });
  for (const ThreadGroup& group : analysis.groups) analysis.leak_groups += group.leak;
  return analysis;
}

}  // namespace threadleak::report_tool
