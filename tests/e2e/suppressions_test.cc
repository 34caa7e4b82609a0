// Suppressions, defaults, ignore_existing, the default-options hook and test attribution, end to
// end: the join_on_hung pattern leaks two threads — "supervisor" (in join, created by main) and
// "hung-worker" (in cond, created by the supervisor) — and each rule kind must take exactly the
// thread it names.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <utility>

#include "support.h"

namespace e2e {
namespace {

using nlohmann::json;

struct Outcome {
  RunResult run;
  json report;  // empty when no report was written
};

Outcome RunWithOptions(const std::vector<std::string>& argv, const TempDir& dir,
                       const std::string& options) {
  Outcome outcome;
  outcome.run = RunProgram(
      argv,
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report:" + options}},
      dir.path() + "/output.txt");
  std::string error;
  if (auto report = ReadReport(ReportPath(dir, outcome.run.pid), &error)) {
    outcome.report = *report;
  }
  return outcome;
}

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> JoinOnHung() {
  return {E2E_LEAK_PATTERNS, "join_on_hung", "leak"};
}

// The names of the threads a report counts as leaked, and of those it marked ignored.
std::pair<std::set<std::string>, std::set<std::string>> Verdicts(const json& report) {
  std::set<std::string> leaked, ignored;
  for (const json& thread : Field(report, "threads")) {
    (thread["verdict"] == "ignored" ? ignored : leaked).insert(thread["name"].get<std::string>());
  }
  return {leaked, ignored};
}

struct RuleCase {
  const char* rule;
  std::set<std::string> ignored;  // thread names the rule must take; none: it must not match
};

class SuppressionRuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(SuppressionRuleTest, TakesExactlyTheThreadItNames) {
  const RuleCase& rule = GetParam();
  TempDir dir;
  std::string file =
      WriteFile(dir, "rules.supp", std::string("# a comment\n\n") + rule.rule + "\n");
  Outcome outcome = RunWithOptions(JoinOnHung(), dir, "suppressions=" + file);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  auto [leaked, ignored] = Verdicts(outcome.report);
  EXPECT_EQ(ignored, rule.ignored) << Summarize(outcome.report);
  EXPECT_EQ(leaked.size() + ignored.size(), 2u) << Summarize(outcome.report);
  EXPECT_EQ(Field(outcome.report, "leaks"), 2 - static_cast<int>(rule.ignored.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SuppressionRuleTest,
    ::testing::Values(RuleCase{"thread:hung-worker", {"hung-worker"}},
                      RuleCase{"thread:hung-*", {"hung-worker"}}, RuleCase{"thread:nobody", {}},
                      RuleCase{"top:e2e::join_on_hung::HangForever", {"hung-worker"}},
                      RuleCase{"top:*::Supervise*", {"supervisor"}},
                      RuleCase{"top:pthread_cond_wait", {}},  // not the program's own frame
                      RuleCase{"any:*HangForever*", {"hung-worker"}},
                      RuleCase{"any:*NotAFunction*", {}},
                      RuleCase{"created_by:e2e::join_on_hung::Supervise", {"hung-worker"}},
                      RuleCase{"created_by:e2e::join_on_hung::Run", {"supervisor"}},
                      RuleCase{"created_by:main", {"supervisor"}},
                      RuleCase{"module:libnothing.so", {}}),
    [](const ::testing::TestParamInfo<RuleCase>& info) {
      return "Rule" + std::to_string(info.index);
    });

TEST(Suppressions, ModuleRuleTakesThreadsOfThatLibrary) {
  TempDir dir;
  std::string file = WriteFile(dir, "rules.supp", "module:libe2e_plugin.so\n");
  Outcome outcome =
      RunWithOptions({E2E_DLOPEN_LIBRARY, E2E_PLUGIN, "leak"}, dir, "suppressions=" + file);
  // Every leaked thread is suppressed: no leak, no report, the program's status.
  EXPECT_EQ(outcome.run.exit_status, 0) << outcome.run.output;
  EXPECT_TRUE(outcome.report.is_null()) << outcome.report.dump();
}

TEST(Suppressions, AllSuppressedMeansNoLeak) {
  TempDir dir;
  std::string file = WriteFile(dir, "rules.supp", "thread:hung-worker\nthread:supervisor\n");
  Outcome outcome = RunWithOptions(JoinOnHung(), dir, "suppressions=" + file);
  EXPECT_EQ(outcome.run.exit_status, 0) << outcome.run.output;
  EXPECT_TRUE(ReportFiles(dir).empty());
}

TEST(Suppressions, PrintSuppressionsListsTheRulesThatMatched) {
  TempDir dir;
  std::string file =
      WriteFile(dir, "rules.supp", "thread:hung-worker\nthread:unused\nthread:supervisor\n");
  Outcome outcome =
      RunWithOptions(JoinOnHung(), dir, "suppressions=" + file + ":print_suppressions=1");
  EXPECT_EQ(outcome.run.exit_status, 0);
  ASSERT_TRUE(outcome.report.is_object()) << outcome.run.output;
  EXPECT_EQ(outcome.report["leaks"], 0);
  const json& used = outcome.report["suppressions_used"];
  ASSERT_EQ(used.size(), 2u) << used.dump();
  EXPECT_EQ(used[0]["rule"], "thread:hung-worker");
  EXPECT_EQ(used[0]["source"], file + ":1");
  EXPECT_EQ(used[0]["threads"], 1);
  EXPECT_EQ(used[1]["source"], file + ":3");
}

TEST(Suppressions, TextReportOmitsSuppressedThreadsAndCountsThem) {
  TempDir dir;
  std::string file = WriteFile(dir, "rules.supp", "thread:hung-worker\n");
  RunResult run =
      RunProgram(JoinOnHung(),
                 {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                  {"THREADLEAK_OPTIONS", "suppressions=" + file + ":print_suppressions=1"}},
                 dir.path() + "/output.txt");
  EXPECT_EQ(run.exit_status, 66);
  EXPECT_EQ(run.output.find("\"hung-worker\" in state"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"supervisor\" in state"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("SUMMARY: threadleak: 1 leaked thread (1 join): 1 definitely leaked; "
                            "1 suppressed"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("threadleak: suppressions used:\n  1 thread  thread:hung-worker  (" +
                            file + ":1)"),
            std::string::npos)
      << run.output;
}

TEST(Suppressions, MalformedLinesAreErrorsNamingFileAndLineAndTheRestApplies) {
  TempDir dir;
  std::string file = WriteFile(dir, "bad.supp", "thread:hung-worker\nfunc:foo\nnocolon\ntop:\n");
  Outcome outcome = RunWithOptions(JoinOnHung(), dir, "suppressions=" + file);
  EXPECT_EQ(outcome.run.exit_status, 66);  // the program ran; the good rule applied
  EXPECT_NE(outcome.run.output.find("threadleak: error: " + file + ":2: unknown kind"),
            std::string::npos)
      << outcome.run.output;
  EXPECT_NE(outcome.run.output.find(file + ":3: expected KIND:PATTERN"), std::string::npos);
  EXPECT_NE(outcome.run.output.find(file + ":4: empty pattern"), std::string::npos);
  EXPECT_EQ(Verdicts(outcome.report).second, std::set<std::string>{"hung-worker"});
}

TEST(Suppressions, UnreadableFileIsAnErrorAndNothingIsSuppressed) {
  TempDir dir;
  Outcome outcome = RunWithOptions(JoinOnHung(), dir, "suppressions=" + dir.path() + "/missing");
  EXPECT_EQ(outcome.run.exit_status, 66);
  EXPECT_NE(outcome.run.output.find("threadleak: error: cannot read suppressions file"),
            std::string::npos)
      << outcome.run.output;
  EXPECT_EQ(Field(outcome.report, "leaks"), 2);
}

TEST(DefaultSuppressions, GlibcTimerThreadIsSuppressedUnlessTurnedOff) {
  TempDir with_defaults;
  Outcome quiet = RunWithOptions({E2E_TIMER_THREAD}, with_defaults, "");
  EXPECT_EQ(quiet.run.exit_status, 0) << quiet.run.output;
  EXPECT_TRUE(ReportFiles(with_defaults).empty());

  TempDir without_defaults;
  Outcome loud = RunWithOptions({E2E_TIMER_THREAD}, without_defaults, "default_suppressions=0");
  EXPECT_EQ(loud.run.exit_status, 66) << loud.run.output;
  ASSERT_EQ(Field(loud.report, "leaks"), 1) << loud.run.output;
  // glibc's helper blocks every signal, so its stack is the one pc the kernel reports.
  EXPECT_TRUE(StackHasFunction(loud.report["threads"][0]["stack"], "sigtimedwait"))
      << Summarize(loud.report);
  EXPECT_TRUE(loud.report["threads"][0]["created_by"]["tid"].is_null());
}

TEST(IgnoreExisting, ThreadsStartedBeforeMainAreNotReported) {
  TempDir plain;
  EXPECT_EQ(RunWithOptions({E2E_STATIC_CONSTRUCTOR, "leak"}, plain, "").run.exit_status, 66);
  TempDir ignoring;
  Outcome outcome = RunWithOptions({E2E_STATIC_CONSTRUCTOR, "leak"}, ignoring, "ignore_existing=1");
  EXPECT_EQ(outcome.run.exit_status, 0) << outcome.run.output;
  EXPECT_TRUE(ReportFiles(ignoring).empty());
}

TEST(Options, DefaultOptionsHookAppliesAndTheEnvironmentWins) {
  TempDir dir;
  // The program's __threadleak_default_options() says exitcode=42.
  RunResult run = RunProgram({E2E_DEFAULT_OPTIONS}, {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}},
                             dir.path() + "/output.txt");
  EXPECT_EQ(run.exit_status, 42) << run.output;
  Outcome overridden = RunWithOptions({E2E_DEFAULT_OPTIONS}, dir, "exitcode=43");
  EXPECT_EQ(overridden.run.exit_status, 43) << overridden.run.output;
}

TEST(Options, IncludeReadsOptionsFromAFile) {
  TempDir dir;
  std::string file =
      WriteFile(dir, "options.txt", "# threadleak options\nexitcode=44\nlinger_ms=10\n");
  Outcome outcome = RunWithOptions(JoinOnHung(), dir, "include=" + file);
  EXPECT_EQ(outcome.run.exit_status, 44) << outcome.run.output;
}

TEST(Options, HelpPrintsEveryOption) {
  TempDir dir;
  RunResult run =
      RunProgram({E2E_LEAK_PATTERNS, "join_on_hung", "fixed"},
                 {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", "help=1"}},
                 dir.path() + "/output.txt");
  EXPECT_EQ(run.exit_status, 0);
  for (const char* option : {"format=text", "log_path=stderr", "exitcode=66", "linger_ms=500",
                             "suppressions=", "ignore_existing=0", "dump_signal=SIGUSR2"}) {
    EXPECT_NE(run.output.find(std::string("  ") + option + "\n"), std::string::npos) << option;
  }
}

TEST(Attribution, ExitReportNamesTheTestWhoseBodyCreatedTheThread) {
  TempDir dir;
  Outcome outcome = RunWithOptions({E2E_GTEST_LEAK}, dir, "");
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_EQ(Field(outcome.report, "leaks"), 1) << outcome.run.output;
  EXPECT_EQ(outcome.report["threads"][0]["test"], "Cache.RefreshesInTheBackground");
}

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

TEST(Wrapper, SuppressionAndIgnoreExistingFlags) {
  TempDir dir;
  std::string file = WriteFile(dir, "rules.supp", "thread:hung-worker\nthread:supervisor\n");
  RunResult suppressed =
      RunProgram({E2E_WRAPPER, "--suppressions", file, "--print-suppressions", "--",
                  E2E_LEAK_PATTERNS, "join_on_hung", "leak"},
                 {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}},
                 dir.path() + "/suppressed.txt");
  EXPECT_EQ(suppressed.exit_status, 0) << suppressed.output;
  EXPECT_NE(suppressed.output.find("threadleak: suppressions used:"), std::string::npos)
      << suppressed.output;
  RunResult ignoring =
      RunProgram({E2E_WRAPPER, "--ignore-existing", E2E_STATIC_CONSTRUCTOR, "leak"},
                 {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}},
                 dir.path() + "/ignoring.txt");
  EXPECT_EQ(ignoring.exit_status, 0) << ignoring.output;
}

}  // namespace
}  // namespace e2e
