// Identical threads across processes, grouped: the same state, the same stack where it waits and
// the same creation stack (function, file and line of each frame; addresses differ from process
// to process and are left out). A CI run of a thousand test processes that each leak the same
// worker is one group of a thousand threads, one JUnit test case, one SARIF alert.
#ifndef THREADLEAK_TOOLS_REPORT_LEAK_GROUPS_H_
#define THREADLEAK_TOOLS_REPORT_LEAK_GROUPS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tools/report/report_input.h"

namespace threadleak::report_tool {

// A thread of one report, by index.
struct ThreadRef {
  size_t report = 0;
  size_t thread = 0;
};

struct ThreadGroup {
  std::string state;
  // The thread whose details (stacks, reason) stand for the group: its first member.
  const Thread* representative = nullptr;
  const ProcessReport* representative_report = nullptr;
  std::vector<ThreadRef> members;
  std::set<int64_t> pids;
  std::set<std::string> tests;  // GoogleTest tests that created members
  std::set<std::string> names;  // thread names
  std::set<std::string> verdicts;
  int64_t blocked_ms_min = -1;
  int64_t blocked_ms_max = -1;
  bool blocked_at_least = false;  // some member's blocked_ms is a lower bound
  bool leak = false;              // some member leaked or is deadlocked
  // Stable across runs and rebuilds: the state and the function names of both stacks, no
  // lines or addresses (SARIF partialFingerprints, JUnit names).
  std::string fingerprint;
};

// Groups point into `reports`: an Analysis moves, never copies.
struct Analysis {
  Analysis() = default;
  Analysis(Analysis&&) = default;
  Analysis& operator=(Analysis&&) = default;
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  std::vector<ProcessReport> reports;
  std::vector<ThreadGroup> groups;  // leaks first, biggest first
  size_t processes = 0;             // distinct pids among the reports
  size_t threads = 0;               // threads in the groups
  size_t leaked_threads = 0;        // of which leaked or deadlocked
  size_t deadlocked_threads = 0;    // of which deadlocked
  size_t leak_groups = 0;           // groups with a leak
};

// Whether a thread counts as a leak: reported as leaked at exit or by a check, or part of a
// deadlock (in any report, a dump included).
bool IsLeak(const Thread& thread);

// Groups the threads of `reports`. With `everything` false only leaks are grouped; with it, every
// thread but the suppressed ones (dumps' "alive", watchdog's "blocked"). A thread that several
// reports of one process list (an API check, then the exit check; repeated dumps) counts once,
// as the last report shows it.
Analysis Analyze(std::vector<ProcessReport> reports, bool everything);

// The first frame of the program's own code, or null.
const Frame* TopUserFrame(const std::vector<Frame>& frames);

// Where the group's threads were started in the program's own source: the first frame of the
// creation stack that is not the runtime's and has a file — one under `source_root` if any
// (the project's code rather than a library's headers) — else the same in the stack where it
// waits. Null when neither has such a frame.
const Frame* SourceSite(const ThreadGroup& group, const std::string& source_root);

// "4240-4243, 4250", as the shim's text report writes tids: at most `max_runs` runs.
std::string DescribeNumbers(std::vector<int64_t> numbers, size_t max_runs);

// "1.23 s", "45 ms".
std::string FormatMilliseconds(int64_t ms);

// "condition variable", "mutex", ...: what a state waits on, for sentences.
std::string WaitObjectWord(const std::string& state);

// "cond in Writer::process(), created by Writer::start()": a short, stable title.
std::string GroupTitle(const ThreadGroup& group);

// The goleak-style block of one group (the text report's, README "Grouping"), ending with "]\n".
std::string GroupText(const ThreadGroup& group);

}  // namespace threadleak::report_tool

#endif  // THREADLEAK_TOOLS_REPORT_LEAK_GROUPS_H_
