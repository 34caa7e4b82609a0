// End-to-end: programs that leak threads on purpose (programs/), run under libthreadleak.so,
// checked against the JSON report. Every pattern runs twice, in its own processes: the leaky
// variant must be reported (exit 66, each leaked thread in the right state, found by a function
// of the program in its stack and in its creation stack), the fixed twin must pass clean.
#include <sys/types.h>

#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "support.h"

namespace e2e {
namespace {

using nlohmann::json;

constexpr int kLeakExitCode = 66;  // the shim's default exitcode
constexpr int kMainThread = -1;

// One thread the report must show as leaked.
struct LeakedThread {
  const char* state;
  const char* function;          // in its stack; "" when it has none (a finished thread)
  const char* creator_function;  // in created_by.stack
  int creator = kMainThread;     // kMainThread, or the index of the LeakedThread that created it
  const char* module = nullptr;  // if set, in the "module" of the frame with `function`
};

struct Pattern {
  const char* name;
  std::vector<std::string> command;  // program and arguments; "leak" or "fixed" is appended
  std::vector<LeakedThread> leaked;
};

// gtest prints a parameter with this; the default would dump its bytes.
void PrintTo(const Pattern& p, std::ostream* os) {
  *os << p.name;
}

std::vector<std::string> LeakPatterns(const char* pattern) {
  return {E2E_LEAK_PATTERNS, pattern};
}

const std::vector<Pattern>& Patterns() {
  static const std::vector<Pattern> patterns = {
      {"forgotten_sender",
       LeakPatterns("forgotten_sender"),
       {{"cond", "forgotten_sender::SendResult", "forgotten_sender::Process"}}},
      {"forgotten_receiver",
       LeakPatterns("forgotten_receiver"),
       {{"cond", "forgotten_receiver::ReceiveValue", "forgotten_receiver::Listen"}}},
      {"premature_return",
       LeakPatterns("premature_return"),
       {{"cond", "premature_return::FetchUser", "premature_return::BuildPage"},
        {"cond", "premature_return::FetchOrders", "premature_return::BuildPage"}}},
      {"timeout",
       LeakPatterns("timeout"),
       {{"cond", "timeout::RunOperation", "timeout::CallWithTimeout"}}},
      {"many_senders_one_reader",
       LeakPatterns("many_senders_one_reader"),
       {{"cond", "many_senders::SendReply", "many_senders::FirstReply"},
        {"cond", "many_senders::SendReply", "many_senders::FirstReply"}}},
      {"consumer_loop_never_closed",
       LeakPatterns("consumer_loop_never_closed"),
       {{"cond", "consumer_loop::SumAll", "consumer_loop::Produce"}}},
      {"worker_without_stop",
       LeakPatterns("worker_without_stop"),
       {{"cond", "Writer::Process", "Writer::Writer"}}},
      {"periodic_loop_without_stop",
       LeakPatterns("periodic_loop_without_stop"),
       {{"sleep", "Storage::CompactForever", "Storage::Storage"}}},
      {"blocked_future",
       LeakPatterns("blocked_future"),
       {{"futex", "blocked_future::AwaitResult", "blocked_future::Run"}}},
      {"atomic_wait",
       LeakPatterns("atomic_wait"),
       {{"futex", "atomic_wait::AwaitReady", "atomic_wait::Run"}}},
      {"posix_semaphore",
       LeakPatterns("posix_semaphore"),
       {{"sem", "posix_semaphore::TakeItem", "posix_semaphore::Run"}}},
      {"pipe_read",
       LeakPatterns("pipe_read"),
       {{"io", "pipe_read::ReadUntilEof", "pipe_read::Run"}}},
      {"barrier_short",
       LeakPatterns("barrier_short"),
       {{"barrier", "barrier_short::Arrive", "barrier_short::Run"},
        {"barrier", "barrier_short::Arrive", "barrier_short::Run"}}},
      {"join_on_hung",
       LeakPatterns("join_on_hung"),
       {{"join", "join_on_hung::Supervise", "join_on_hung::Run"},
        {"cond", "join_on_hung::HangForever", "join_on_hung::Supervise", /*creator=*/0}}},
      {"unjoined_finished",
       LeakPatterns("unjoined_finished"),
       {{"finished", "", "unjoined_finished::Run"}}},
      {"static_constructor",
       {E2E_STATIC_CONSTRUCTOR},
       {{"cond", "BackgroundCache::Refresh", "BackgroundCache::BackgroundCache"}}},
      {"dlopen_library",
       {E2E_DLOPEN_LIBRARY, E2E_PLUGIN},
       {{"cond", "plugin::PollEvents", "plugin::StartPoller", kMainThread, "e2e_plugin"}}},
  };
  return patterns;
}

const Pattern& PatternNamed(std::string_view name) {
  for (const Pattern& p : Patterns()) {
    if (p.name == name) return p;
  }
  throw std::invalid_argument("no pattern " + std::string(name));
}

std::vector<std::string> Command(const Pattern& p, const char* variant,
                                 std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = p.command;
  argv.push_back(variant);
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

std::vector<const json*> LeakedThreadsOf(const json& report) {
  std::vector<const json*> out;
  const auto threads = report.find("threads");
  if (threads == report.end() || !threads->is_array()) return out;
  for (const json& t : *threads) {
    if (StringField(t, "verdict") == "leaked") out.push_back(&t);
  }
  return out;
}

bool Matches(const json& thread, const LeakedThread& want) {
  if (StringField(thread, "state") != want.state) return false;
  if (*want.function == '\0') return true;
  return StackHasFunction(Field(thread, "stack"), want.function);
}

// Checks the report of process `pid` against the expected leaked threads, in any order.
void ExpectReportShows(const json& report, pid_t pid, const std::vector<LeakedThread>& expected) {
  SCOPED_TRACE("reported threads:\n" + Summarize(report));
  EXPECT_EQ(StringField(report, "tool"), "threadleak");
  EXPECT_EQ(Field(report, "pid"), pid);
  EXPECT_EQ(StringField(report, "trigger"), "exit");
  EXPECT_EQ(Field(report, "leaks"), expected.size());

  const std::vector<const json*> leaked = LeakedThreadsOf(report);
  EXPECT_EQ(leaked.size(), expected.size());
  for (const json* t : leaked) EXPECT_NE(Field(*t, "tid"), pid) << "main thread reported";

  // Each expected thread takes the first unclaimed reported thread that matches it.
  std::vector<const json*> found(expected.size(), nullptr);
  std::set<const json*> claimed;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const LeakedThread& want = expected[i];
    for (const json* t : leaked) {
      if (claimed.count(t) == 0 && Matches(*t, want)) {
        found[i] = t;
        claimed.insert(t);
        break;
      }
    }
    EXPECT_NE(found[i], nullptr) << "no leaked thread in state '" << want.state << "' with '"
                                 << want.function << "' in its stack";
  }

  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (found[i] == nullptr) continue;
    const LeakedThread& want = expected[i];
    const json& thread = *found[i];
    const json& created_by = Field(thread, "created_by");
    SCOPED_TRACE("thread " + Field(thread, "tid").dump() + " (" + want.function + ")");
    ASSERT_TRUE(created_by.is_object());
    EXPECT_TRUE(StackHasFunction(Field(created_by, "stack"), want.creator_function))
        << "'" << want.creator_function << "' not in the creation stack";
    if (want.creator == kMainThread) {
      EXPECT_EQ(Field(created_by, "tid"), pid) << "not created by the main thread";
    } else if (found[want.creator] != nullptr) {
      EXPECT_EQ(Field(created_by, "tid"), Field(*found[want.creator], "tid"))
          << "not created by the thread running " << expected[want.creator].function;
    }
    if (want.module != nullptr) {
      const json* frame = FindFrame(Field(thread, "stack"), want.function);
      ASSERT_NE(frame, nullptr);
      EXPECT_NE(StringField(*frame, "module").find(want.module), std::string::npos)
          << "frame " << frame->dump();
    }
  }
}

// Runs a leaky program under the shim; returns its report (null json if there is none).
json RunLeaky(const std::vector<std::string>& argv, const TempDir& dir, int expected_status,
              RunResult* run) {
  *run = RunUnderShim(THREADLEAK_SHIM_PATH, argv, dir);
  EXPECT_FALSE(run->timed_out) << "hung; output:\n" << run->output;
  EXPECT_EQ(run->Describe(), "exit " + std::to_string(expected_status)) << run->output;
  std::string error;
  std::optional<json> report = ReadReport(ReportPath(dir, run->pid), &error);
  EXPECT_TRUE(report.has_value()) << error << "\noutput:\n" << run->output;
  return report.value_or(json());
}

void ExpectClean(const RunResult& run, const TempDir& dir, int expected_status) {
  EXPECT_FALSE(run.timed_out) << "hung; output:\n" << run.output;
  EXPECT_EQ(run.Describe(), "exit " + std::to_string(expected_status)) << run.output;
  for (const std::string& file : ReportFiles(dir)) {
    std::string error;
    const std::optional<json> report = ReadReport(file, &error);
    ASSERT_TRUE(report.has_value()) << error;
    EXPECT_EQ(Field(*report, "leaks"), 0) << Summarize(*report);
    EXPECT_TRUE(LeakedThreadsOf(*report).empty()) << Summarize(*report);
  }
}

void PrintOnFailure(const json& report) {
  if (::testing::Test::HasFailure() && !report.is_null()) {
    std::cerr << "report: " << report.dump() << "\n";
  }
}

class LeakPatternTest : public ::testing::TestWithParam<Pattern> {};

TEST_P(LeakPatternTest, LeakIsReported) {
  const Pattern& p = GetParam();
  TempDir dir;
  RunResult run;
  const json report = RunLeaky(Command(p, "leak"), dir, kLeakExitCode, &run);
  if (!report.is_null()) ExpectReportShows(report, run.pid, p.leaked);
  PrintOnFailure(report);
}

TEST_P(LeakPatternTest, FixedIsClean) {
  TempDir dir;
  ExpectClean(RunUnderShim(THREADLEAK_SHIM_PATH, Command(GetParam(), "fixed"), dir), dir, 0);
}

INSTANTIATE_TEST_SUITE_P(Patterns, LeakPatternTest, ::testing::ValuesIn(Patterns()),
                         [](const ::testing::TestParamInfo<Pattern>& info) {
                           return std::string(info.param.name);
                         });

TEST(ExitStatus, ProgramStatusWinsOverLeakExitCode) {
  const Pattern& p = PatternNamed("forgotten_receiver");
  TempDir dir;
  RunResult run;
  const json report = RunLeaky(Command(p, "leak", {"--status", "3"}), dir, 3, &run);
  if (!report.is_null()) ExpectReportShows(report, run.pid, p.leaked);
  PrintOnFailure(report);
}

TEST(ExitStatus, ExitCallIsChecked) {
  const Pattern& p = PatternNamed("forgotten_receiver");
  TempDir dir;
  RunResult run;
  const json report = RunLeaky(Command(p, "leak", {"--exit", "0"}), dir, kLeakExitCode, &run);
  if (!report.is_null()) ExpectReportShows(report, run.pid, p.leaked);
  PrintOnFailure(report);
}

TEST(ExitStatus, ExitCallKeepsNonZeroStatus) {
  const Pattern& p = PatternNamed("forgotten_receiver");
  TempDir dir;
  RunResult run;
  const json report = RunLeaky(Command(p, "leak", {"--exit", "5"}), dir, 5, &run);
  if (!report.is_null()) ExpectReportShows(report, run.pid, p.leaked);
  PrintOnFailure(report);
}

TEST(ExitStatus, CleanProgramKeepsItsStatus) {
  TempDir dir;
  const Pattern& p = PatternNamed("forgotten_receiver");
  ExpectClean(RunUnderShim(THREADLEAK_SHIM_PATH, Command(p, "fixed", {"--status", "3"}), dir), dir,
              3);
}

// The wrapper script must produce what a direct LD_PRELOAD run produces. The program's pid is
// taken from the report (the wrapper may or may not exec it).
TEST(Wrapper, ReportsLikeADirectRun) {
  const Pattern& p = PatternNamed("join_on_hung");
  TempDir dir;
  std::vector<std::string> argv = {E2E_WRAPPER, "--json", "--log-path", dir.path() + "/report",
                                   "--"};
  for (const std::string& arg : Command(p, "leak")) argv.push_back(arg);
  const EnvChanges env = {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}};
  const RunResult run = RunProgram(argv, env, dir.path() + "/output.txt");
  EXPECT_FALSE(run.timed_out) << run.output;
  EXPECT_EQ(run.Describe(), "exit " + std::to_string(kLeakExitCode)) << run.output;

  const std::vector<std::string> files = ReportFiles(dir);
  ASSERT_EQ(files.size(), 1u) << run.output;
  std::string error;
  const std::optional<json> report = ReadReport(files[0], &error);
  ASSERT_TRUE(report.has_value()) << error;
  const json pid = Field(*report, "pid");
  ASSERT_TRUE(pid.is_number_integer()) << report->dump();
  EXPECT_EQ(files[0], ReportPath(dir, pid.get<pid_t>()));
  ExpectReportShows(*report, pid.get<pid_t>(), p.leaked);
  PrintOnFailure(*report);
}

// Thread names: the name a thread gave itself, and its creator's name at creation.
TEST(Report, ThreadNames) {
  TempDir dir;
  RunResult run;
  const json report =
      RunLeaky(Command(PatternNamed("join_on_hung"), "leak"), dir, kLeakExitCode, &run);
  std::map<std::string, const json*> by_name;
  for (const json* t : LeakedThreadsOf(report)) by_name[StringField(*t, "name")] = t;
  ASSERT_EQ(by_name.count("supervisor"), 1u) << Summarize(report);
  ASSERT_EQ(by_name.count("hung-worker"), 1u) << Summarize(report);
  const json& worker = *by_name["hung-worker"];
  EXPECT_EQ(Field(Field(worker, "created_by"), "name"), "supervisor") << worker.dump();
  EXPECT_EQ(Field(Field(*by_name["supervisor"], "created_by"), "tid"), run.pid);
  PrintOnFailure(report);
}

// A wait whose start the hook records no clock read for (an I/O call, a lock) is only as old as
// the first look at it says: the report says "at least", never gives that as the wait's age. A
// condition variable's wait has its start.
TEST(Report, AWaitWithNoRecordedStartIsGivenAsALowerBound) {
  TempDir dir;
  RunResult run;
  const json io = RunLeaky(Command(PatternNamed("pipe_read"), "leak"), dir, kLeakExitCode, &run);
  bool saw_io = false;
  for (const json* t : LeakedThreadsOf(io)) {
    if (StringField(*t, "state") != "io") continue;
    saw_io = true;
    EXPECT_TRUE(Field(*t, "blocked_ms").is_number_integer()) << t->dump();
    EXPECT_EQ(Field(*t, "blocked_ms_at_least"), true) << t->dump();
  }
  EXPECT_TRUE(saw_io) << Summarize(io);
  // `threadleak report` renders the saved report the same way.
  RunResult again =
      RunProgram({E2E_WRAPPER, "report", ReportPath(dir, run.pid)}, {}, dir.path() + "/again.txt");
  EXPECT_NE(again.output.find("blocked at least "), std::string::npos) << again.output;
  TempDir cond_dir;
  const json cond =
      RunLeaky(Command(PatternNamed("forgotten_receiver"), "leak"), cond_dir, kLeakExitCode, &run);
  ASSERT_FALSE(LeakedThreadsOf(cond).empty()) << Summarize(cond);
  for (const json* t : LeakedThreadsOf(cond)) {
    EXPECT_TRUE(Field(*t, "blocked_ms").is_number_integer()) << t->dump();
    EXPECT_FALSE(t->contains("blocked_ms_at_least")) << t->dump();
  }
  TempDir text_dir;
  RunResult text = RunProgram(
      Command(PatternNamed("pipe_read"), "leak"),
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", "format=text:linger_ms=0"}},
      text_dir.path() + "/output.txt");
  EXPECT_NE(text.output.find("(in read, blocked at least "), std::string::npos) << text.output;
}

// The shape of the JSON (see the contract): every key present with its type.
void ExpectWellFormed(const json& report) {
  ASSERT_TRUE(report.is_object());
  EXPECT_TRUE(Field(report, "version").is_string());
  EXPECT_TRUE(Field(report, "leaks").is_number_integer());
  ASSERT_TRUE(Field(report, "threads").is_array());
  auto hex = [](const json& v) {
    return v.is_string() && v.get<std::string>().rfind("0x", 0) == 0;
  };
  auto check_stack = [&](const json& stack) {
    ASSERT_TRUE(stack.is_array());
    for (const json& f : stack) {
      SCOPED_TRACE(f.dump());
      ASSERT_TRUE(f.is_object());
      EXPECT_TRUE(hex(Field(f, "pc")));
      EXPECT_TRUE(Field(f, "function").is_string());
      EXPECT_TRUE(f.contains("file") && (f["file"].is_string() || f["file"].is_null()));
      EXPECT_TRUE(f.contains("line") && (f["line"].is_number_integer() || f["line"].is_null()));
      EXPECT_TRUE(Field(f, "module").is_string());
    }
  };
  const std::set<std::string> states = {"mutex", "cond",  "rwlock", "sem",     "barrier", "join",
                                        "futex", "sleep", "io",     "running", "finished"};
  for (const json& t : report["threads"]) {
    SCOPED_TRACE(t.dump());
    ASSERT_TRUE(t.is_object());
    EXPECT_TRUE(Field(t, "tid").is_number_integer());
    EXPECT_TRUE(Field(t, "name").is_string());
    EXPECT_EQ(states.count(StringField(t, "state")), 1u);
    EXPECT_TRUE(t.contains("object") && (hex(t["object"]) || t["object"].is_null()));
    EXPECT_TRUE(t.contains("blocked_ms") &&
                (t["blocked_ms"].is_number() || t["blocked_ms"].is_null()));
    EXPECT_TRUE(Field(t, "verdict").is_string());
    check_stack(Field(t, "stack"));
    const json& created_by = Field(t, "created_by");
    ASSERT_TRUE(created_by.is_object());
    EXPECT_TRUE(created_by.contains("tid") &&
                (created_by["tid"].is_number_integer() || created_by["tid"].is_null()));
    EXPECT_TRUE(created_by.contains("name") &&
                (created_by["name"].is_string() || created_by["name"].is_null()));
    check_stack(Field(created_by, "stack"));
  }
}

// Blocked threads with nested creators, a sleeping thread, a finished one.
TEST(Report, Schema) {
  for (const char* pattern : {"join_on_hung", "periodic_loop_without_stop", "unjoined_finished"}) {
    SCOPED_TRACE(pattern);
    TempDir dir;
    RunResult run;
    const json report = RunLeaky(Command(PatternNamed(pattern), "leak"), dir, kLeakExitCode, &run);
    ExpectWellFormed(report);
    PrintOnFailure(report);
  }
}

}  // namespace
}  // namespace e2e
