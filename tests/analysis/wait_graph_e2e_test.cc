// End-to-end: the wait-for graph of programs/scenarios.cc, reported at exit in JSON, text and
// DOT. Each scenario runs once per format, in its own process; the program prints the addresses
// of its objects and its threads' tids, which the expectations below refer to by name:
//   {obj:a}      the address the program printed as "object a 0x..."
//   {tid:a}      the tid of the thread named "a"
//   {thread:a}   `thread 4242 "a"`, as the report names a thread it shows
//   {bare:a}     `thread 4242`, as it names a thread it does not show (exited, not reported)
#include <sys/types.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/support.h"

namespace {

using e2e::Field;
using e2e::RunResult;
using e2e::StringField;
using e2e::TempDir;
using nlohmann::json;

constexpr int kLeakExitCode = 66;

struct ExpectedThread {
  std::string name;
  std::string state;                    // the JSON "state"
  std::string verdict;                  // "deadlocked" or "leaked"
  std::string certainty;                // "definite" or "possible"
  std::vector<std::string> blocked_by;  // thread names
  std::string waiting_for;              // the text line after the thread's header, "" for none
  std::string reason;                   // how the reason starts
  std::string waits_on_deadlock = "";   // a thread name, "" for none
  bool exit_would_hang = false;
};

struct ExpectedEdge {
  std::string from, to;  // thread names
  std::string state;
  std::string object;  // "{obj:a}"
};

struct Scenario {
  const char* name;
  std::vector<ExpectedThread> threads;
  std::vector<std::vector<ExpectedEdge>> deadlocks;  // each: its edges, in cycle order
  std::vector<std::string> text;                     // more lines the text report must have
};

void PrintTo(const Scenario& s, std::ostream* os) {
  *os << s.name;
}

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> scenarios = {
      {"abba",
       {{"locker-a",
         "mutex",
         "deadlocked",
         "definite",
         {"locker-b"},
         "waiting for mutex {obj:b} held by {thread:locker-b}",
         "it waits for mutex {obj:b} held by {thread:locker-b}, which waits for mutex {obj:a} "
         "held by this thread"},
        {"locker-b",
         "mutex",
         "deadlocked",
         "definite",
         {"locker-a"},
         "waiting for mutex {obj:a} held by {thread:locker-a}",
         "it waits for mutex {obj:a} held by {thread:locker-a}, which waits for mutex {obj:b} "
         "held by this thread"},
        {"bystander",
         "mutex",
         "leaked",
         "definite",
         {"locker-a"},
         "waiting for mutex {obj:a} held by {thread:locker-a}",
         "{thread:locker-a}, which holds mutex {obj:a}, is itself deadlocked",
         "locker-a"}},
       {{{"locker-a", "locker-b", "mutex", "{obj:b}"},
         {"locker-b", "locker-a", "mutex", "{obj:a}"}}},
       {"Found one deadlock (2 threads):",
        "  {thread:locker-a} waits for mutex {obj:b} held by {thread:locker-b}",
        "  {thread:locker-b} waits for mutex {obj:a} held by {thread:locker-a}"}},
      {"three_cycle",
       {{"ring-0",
         "mutex",
         "deadlocked",
         "definite",
         {"ring-1"},
         "waiting for mutex {obj:m1} held by {thread:ring-1}",
         "it waits for mutex {obj:m1} held by {thread:ring-1}, which waits for mutex {obj:m2} held "
         "by {thread:ring-2}, which waits for mutex {obj:m0} held by this thread"},
        {"ring-1",
         "mutex",
         "deadlocked",
         "definite",
         {"ring-2"},
         "waiting for mutex {obj:m2} held by {thread:ring-2}",
         "it waits for mutex {obj:m2}"},
        {"ring-2",
         "mutex",
         "deadlocked",
         "definite",
         {"ring-0"},
         "waiting for mutex {obj:m0} held by {thread:ring-0}",
         "it waits for mutex {obj:m0}"}},
       {{{"ring-0", "ring-1", "mutex", "{obj:m1}"},
         {"ring-1", "ring-2", "mutex", "{obj:m2}"},
         {"ring-2", "ring-0", "mutex", "{obj:m0}"}}},
       {"Found one deadlock (3 threads):"}},
      {"join_cycle",
       {{"parent",
         "join",
         "deadlocked",
         "definite",
         {"child"},
         "waiting to join {thread:child}",
         "it joins {thread:child}, which waits for mutex {obj:state} held by this thread"},
        {"child",
         "mutex",
         "deadlocked",
         "definite",
         {"parent"},
         "waiting for mutex {obj:state} held by {thread:parent}",
         "it waits for mutex {obj:state} held by {thread:parent}, which joins this thread"}},
       {{{"parent", "child", "join", "{obj:child_thread}"},
         {"child", "parent", "mutex", "{obj:state}"}}},
       {"Found one deadlock (2 threads):", "  {thread:parent} joins {thread:child}"}},
      {"mixed_cycle",
       {{"table-writer",
         "mutex",
         "deadlocked",
         "definite",
         {"logger"},
         "waiting for mutex {obj:log} held by {thread:logger}",
         "it waits for mutex {obj:log} held by {thread:logger}, which waits for rwlock {obj:table} "
         "held for writing by this thread"},
        {"logger",
         "rwlock",
         "deadlocked",
         "definite",
         {"table-writer"},
         "waiting for rwlock {obj:table} held for writing by {thread:table-writer}",
         "it waits for rwlock {obj:table} held for writing by {thread:table-writer}"}},
       {{{"table-writer", "logger", "mutex", "{obj:log}"},
         {"logger", "table-writer", "rwlock", "{obj:table}"}}},
       {"Found one deadlock (2 threads):"}},
      {"self_deadlock",
       {{"relocker",
         "mutex",
         "deadlocked",
         "definite",
         {"relocker"},
         "waiting for mutex {obj:config} held by {thread:relocker} (itself)",
         "it waits for mutex {obj:config}, which it holds itself (nothing else can unlock it)"}},
       {{{"relocker", "relocker", "mutex", "{obj:config}"}}},
       {"Found one deadlock (1 thread):",
        "  {thread:relocker} waits for mutex {obj:config} held by {thread:relocker}"}},
      {"writer_behind_reader",
       {{"reader",
         "cond",
         "leaked",
         "possible",
         {},
         "",
         // g_never is a global: no proof that nothing can signal it (issue 16).
         "condition variable {obj:never} is reachable from global"},
        {"writer",
         "rwlock",
         "leaked",
         "possible",
         {},
         "waiting for rwlock {obj:cache} held by 1 reader",
         "rwlock {obj:cache} lies in global data"}},
       {},
       {}},
      {"lonely_condvar",
       {{"lonely",
         "cond",
         "leaked",
         "possible",
         {},
         "",
         "condition variable {obj:ready} is reachable from global"},
        {"supervisor",
         "join",
         "leaked",
         "possible",
         {"lonely"},
         "waiting to join {thread:lonely}",
         "thread {tid:lonely}, which it joins, can still end"}},
       {},
       {}},
      {"signaller_sleeping",
       {{"waiter", "cond", "leaked", "possible", {}, "", "condition variable {obj:wake} "},
        {"signaller",
         "sleep",
         "leaked",
         "possible",
         {},
         "",
         "it sleeps and will wake up by itself"}},
       {},
       {}},
      {"static_condvar",
       {{"static-waiter",
         "cond",
         "leaked",
         "possible",
         {},
         "",
         "condition variable {obj:shutdown} lies in global data",
         "",
         /*exit_would_hang=*/true}},
       {},
       {" exit would hang: condition variable {obj:shutdown} is destroyed at exit"}},
      {"interrupted_condvar",
       {{"interrupted",
         "futex",
         "leaked",
         "possible",
         {},
         "",
         "futex {obj:word} lies in global data"}},
       {},
       {}},
      {"owner_exited",
       {{"orphan",
         "mutex",
         "leaked",
         "definite",
         {"quitter"},
         "waiting for mutex {obj:lock} held by {bare:quitter}, which has exited",
         "mutex {obj:lock} is held by {bare:quitter}, which has exited without unlocking it"}},
       {},
       {}},
  };
  return scenarios;
}

// What a scenario printed about itself.
struct Printed {
  std::map<std::string, std::string> objects;
  std::map<std::string, int> tids;
};

Printed ParseOutput(const std::string& output) {
  Printed printed;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, name, value;
    if (!(words >> kind >> name >> value)) continue;
    if (kind == "object") printed.objects[name] = value;
    if (kind == "tid") printed.tids[name] = std::stoi(value);
  }
  return printed;
}

// Fills in {obj:..}, {tid:..}, {thread:..} and {bare:..}; an unknown name is a test failure.
std::string Expand(const std::string& pattern, const Printed& printed) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    const size_t open = pattern.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = pattern.find('}', open);
    const size_t colon = pattern.find(':', open);
    out += pattern.substr(pos, open - pos);
    const std::string kind = pattern.substr(open + 1, colon - open - 1);
    const std::string name = pattern.substr(colon + 1, close - colon - 1);
    pos = close + 1;
    if (kind == "obj") {
      auto it = printed.objects.find(name);
      EXPECT_NE(it, printed.objects.end()) << "the program printed no object " << name;
      out += it == printed.objects.end() ? "?" : it->second;
      continue;
    }
    auto it = printed.tids.find(name);
    EXPECT_NE(it, printed.tids.end()) << "the program printed no tid for " << name;
    const std::string tid = it == printed.tids.end() ? "?" : std::to_string(it->second);
    if (kind == "tid") out += tid;
    if (kind == "bare") out += "thread " + tid;
    if (kind == "thread") out += "thread " + tid + " \"" + name + "\"";
  }
  return out + pattern.substr(std::min(pos, pattern.size()));
}

struct ScenarioRun {
  RunResult result;
  Printed printed;
  std::string report;  // the report file's contents
};

// Runs the scenario under the shim with `format` (json, text, dot). The threads are stuck by
// construction, so no grace period is needed.
ScenarioRun RunScenario(const Scenario& s, const std::string& format, const TempDir& dir) {
  const e2e::EnvChanges env = {
      {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
      {"THREADLEAK_OPTIONS",
       "format=" + format + ":linger_ms=0:log_path=" + dir.path() + "/report"},
  };
  ScenarioRun run;
  run.result = e2e::RunProgram({ANALYSIS_SCENARIOS, s.name}, env, dir.path() + "/output.txt");
  run.printed = ParseOutput(run.result.output);
  std::ifstream in(e2e::ReportPath(dir, run.result.pid));
  std::ostringstream text;
  text << in.rdbuf();
  run.report = text.str();
  EXPECT_FALSE(run.result.timed_out) << "hung; output:\n" << run.result.output;
  EXPECT_EQ(run.result.Describe(), "exit " + std::to_string(kLeakExitCode)) << run.result.output;
  EXPECT_FALSE(run.report.empty()) << "no report; output:\n" << run.result.output;
  return run;
}

const json* ThreadNamed(const json& report, const std::string& name) {
  const json& threads = Field(report, "threads");
  if (!threads.is_array()) return nullptr;
  for (const json& t : threads) {
    if (StringField(t, "name") == name) return &t;
  }
  return nullptr;
}

json Tids(const std::vector<std::string>& names, const Printed& printed) {
  json out = json::array();
  for (const std::string& name : names)
    out.push_back(std::stoi(Expand("{tid:" + name + "}", printed)));
  return out;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

class WaitGraphTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(WaitGraphTest, Json) {
  const Scenario& s = GetParam();
  TempDir dir;
  const ScenarioRun run = RunScenario(s, "json", dir);
  std::string error;
  const std::optional<json> parsed = e2e::ReadReport(e2e::ReportPath(dir, run.result.pid), &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  const json& report = *parsed;
  SCOPED_TRACE("report: " + report.dump());
  EXPECT_EQ(Field(report, "leaks"), s.threads.size());

  for (const ExpectedThread& want : s.threads) {
    SCOPED_TRACE("thread " + want.name);
    const json* thread = ThreadNamed(report, want.name);
    ASSERT_NE(thread, nullptr) << "not reported";
    EXPECT_EQ(StringField(*thread, "state"), want.state);
    EXPECT_EQ(StringField(*thread, "verdict"), want.verdict);
    EXPECT_EQ(StringField(*thread, "certainty"), want.certainty);
    const std::string reason = Expand(want.reason, run.printed);
    EXPECT_TRUE(StartsWith(StringField(*thread, "reason"), reason))
        << "reason: " << Field(*thread, "reason") << "\nexpected it to start with: " << reason;
    EXPECT_EQ(Field(*thread, "blocked_by"), Tids(want.blocked_by, run.printed));
    if (want.waits_on_deadlock.empty()) {
      EXPECT_TRUE(Field(*thread, "waits_on_deadlock").is_null());
    } else {
      EXPECT_EQ(Field(*thread, "waits_on_deadlock"),
                std::stoi(Expand("{tid:" + want.waits_on_deadlock + "}", run.printed)));
    }
    EXPECT_EQ(Field(*thread, "exit_would_hang"), want.exit_would_hang);
  }

  const json& deadlocks = Field(report, "deadlocks");
  ASSERT_TRUE(deadlocks.is_array()) << "no \"deadlocks\" array";
  ASSERT_EQ(deadlocks.size(), s.deadlocks.size());
  for (const std::vector<ExpectedEdge>& cycle : s.deadlocks) {
    // The cycle may start at any of its threads: find it by its first thread.
    const int first = std::stoi(Expand("{tid:" + cycle[0].from + "}", run.printed));
    const json* found = nullptr;
    for (const json& d : deadlocks) {
      const json& tids = Field(d, "tids");
      if (tids.is_array() && std::find(tids.begin(), tids.end(), json(first)) != tids.end()) {
        found = &d;
      }
    }
    ASSERT_NE(found, nullptr) << "no deadlock with " << cycle[0].from;
    const json& tids = Field(*found, "tids");
    const json& edges = Field(*found, "edges");
    ASSERT_EQ(tids.size(), cycle.size());
    ASSERT_TRUE(edges.is_array());
    ASSERT_EQ(edges.size(), cycle.size());
    // tids[i] waits for tids[i+1]; edges[i] is that wait.
    for (size_t i = 0; i < edges.size(); ++i) {
      EXPECT_EQ(Field(edges[i], "from"), tids[i]);
      EXPECT_EQ(Field(edges[i], "to"), tids[(i + 1) % tids.size()]);
    }
    for (const ExpectedEdge& want : cycle) {
      const json from = std::stoi(Expand("{tid:" + want.from + "}", run.printed));
      const json to = std::stoi(Expand("{tid:" + want.to + "}", run.printed));
      const auto edge = std::find_if(edges.begin(), edges.end(),
                                     [&](const json& e) { return Field(e, "from") == from; });
      ASSERT_NE(edge, edges.end()) << "no edge from " << want.from;
      EXPECT_EQ(Field(*edge, "to"), to) << want.from << " -> " << want.to;
      EXPECT_EQ(StringField(*edge, "state"), want.state) << want.from << " -> " << want.to;
      EXPECT_EQ(StringField(*edge, "object"), Expand(want.object, run.printed));
    }
  }
}

const char* VerdictPhrase(const ExpectedThread& t) {
  if (t.verdict == "deadlocked") return "deadlocked";
  return t.certainty == "definite" ? "definitely leaked" : "possibly leaked";
}

TEST_P(WaitGraphTest, Text) {
  const Scenario& s = GetParam();
  TempDir dir;
  const ScenarioRun run = RunScenario(s, "text", dir);
  SCOPED_TRACE("report:\n" + run.report);
  std::vector<std::string> lines;
  for (const ExpectedThread& t : s.threads) {
    if (!t.waiting_for.empty()) lines.push_back(" " + t.waiting_for + "\n");
    lines.push_back(std::string(" ") + VerdictPhrase(t) + ": " + t.reason);
  }
  for (const std::string& line : s.text) lines.push_back(line + (line[0] == ' ' ? "" : "\n"));
  for (const std::string& line : lines) {
    const std::string want = Expand(line, run.printed);
    EXPECT_NE(run.report.find(want), std::string::npos) << "missing: <<" << want << ">>";
  }
  if (s.deadlocks.empty()) {
    EXPECT_EQ(run.report.find("deadlock ("), std::string::npos);
  }
}

TEST_P(WaitGraphTest, Dot) {
  const Scenario& s = GetParam();
  TempDir dir;
  const ScenarioRun run = RunScenario(s, "dot", dir);
  SCOPED_TRACE("report:\n" + run.report);
  EXPECT_TRUE(StartsWith(run.report, "digraph threadleak {\n"));
  for (const ExpectedThread& t : s.threads) {
    const char* colour = t.verdict == "deadlocked"   ? "red"
                         : t.certainty == "definite" ? "orange"
                                                     : "yellow";
    const std::string node = Expand("  {tid:" + t.name + "} [label=\"{tid:" + t.name + "} \\\"" +
                                        t.name + "\\\"\\n" + t.state + "\"",
                                    run.printed);
    const size_t at = run.report.find(node);
    ASSERT_NE(at, std::string::npos) << "no node <<" << node << ">>";
    const std::string line = run.report.substr(at, run.report.find('\n', at) - at);
    EXPECT_NE(line.find(std::string("fillcolor=\"") + colour + "\""), std::string::npos) << line;
    for (const std::string& blocker : t.blocked_by) {
      // A blocker that exited is a node of its own ("exited TID"): its tid may be reused.
      const std::string label = " [label=\"" + t.state + " ";
      const std::string edge =
          Expand("  {tid:" + t.name + "} -> {tid:" + blocker + "}" + label, run.printed);
      const std::string to_exited =
          Expand("  {tid:" + t.name + "} -> \"exited {tid:" + blocker + "}\"" + label, run.printed);
      EXPECT_TRUE(run.report.find(edge) != std::string::npos ||
                  run.report.find(to_exited) != std::string::npos)
          << "no edge <<" << edge << ">>";
    }
  }
  for (const std::vector<ExpectedEdge>& cycle : s.deadlocks) {
    for (const ExpectedEdge& e : cycle) {
      const std::string edge = Expand("  {tid:" + e.from + "} -> {tid:" + e.to + "} [label=\"" +
                                          e.state + " " + e.object + "\"",
                                      run.printed);
      EXPECT_NE(run.report.find(edge), std::string::npos) << "no edge <<" << edge << ">>";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, WaitGraphTest, ::testing::ValuesIn(Scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
