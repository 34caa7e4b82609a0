// End-to-end: the C API and the GoogleTest listener, each program in its own process under the
// shim (JSON reports into a temporary directory) and without it.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/support.h"

namespace e2e {
namespace {

using nlohmann::json;

// The test's own environment may run under threadleak (a CI job running ctest under the
// wrapper): a run "without the shim" must say so.
const EnvChanges kWithoutShim = {{"LD_PRELOAD", std::nullopt},
                                 {"THREADLEAK_OPTIONS", std::nullopt}};

json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// ---- The C API ------------------------------------------------------------------------------

TEST(Api, ChecksReportOnlyTheThreadsOfTheLeakyTest) {
  TempDir dir;
  const std::string dump_path = dir.path() + "/dump.json";
  RunResult run = RunUnderShim(THREADLEAK_SHIM_PATH, {API_PROGRAM, dump_path}, dir);
  ASSERT_TRUE(run.exited && run.exit_status == 0) << run.Describe() << "\n" << run.output;
  EXPECT_NE(run.output.find("active=1 marks_apart=1 leaks_a=0 leaks_b=1 dump=0 dump_error=none"),
            std::string::npos)
      << run.output;

  // One report: the check after test B. Test A's check found nothing and wrote nothing; the
  // exit found nothing either (B's thread was joined).
  std::string error;
  std::vector<json> reports = ReadReports(ReportPath(dir, run.pid), &error);
  ASSERT_EQ(reports.size(), 1u) << error << "\n" << run.output;
  const json& report = reports[0];
  EXPECT_EQ(StringField(report, "trigger"), "api");
  EXPECT_EQ(Field(report, "leaks"), 1) << Summarize(report);
  const json& threads = Field(report, "threads");
  ASSERT_TRUE(threads.is_array() && threads.size() == 1) << Summarize(report);
  const json& thread = threads[0];
  EXPECT_EQ(StringField(thread, "name"), "leaky-b");
  EXPECT_EQ(StringField(thread, "state"), "cond");
  EXPECT_EQ(StringField(thread, "verdict"), "leaked");
  EXPECT_TRUE(StackHasFunction(Field(thread, "stack"), "BlockedWorker")) << Summarize(report);
  EXPECT_TRUE(StackHasFunction(Field(Field(thread, "created_by"), "stack"), "RunTestB"))
      << Summarize(report);

  // The dump, taken while B's thread still waited, lists it among every thread.
  std::vector<json> dumps = ReadReports(dump_path, &error);
  ASSERT_EQ(dumps.size(), 1u) << error;
  EXPECT_EQ(StringField(dumps[0], "trigger"), "api");
  EXPECT_NE(Summarize(dumps[0]).find("leaky-b"), std::string::npos) << Summarize(dumps[0]);
}

TEST(Api, DoesNothingWithoutTheShim) {
  TempDir dir;
  const std::string dump_path = dir.path() + "/dump.json";
  RunResult run = RunProgram({API_PROGRAM, dump_path}, kWithoutShim, dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited && run.exit_status == 0) << run.Describe() << "\n" << run.output;
  EXPECT_NE(run.output.find("active=0 marks_apart=0 leaks_a=0 leaks_b=0 dump=-1 dump_error=" +
                            std::string(strerror(ENOSYS))),
            std::string::npos)
      << run.output;
}

// ---- The GoogleTest listener ----------------------------------------------------------------

constexpr const char* kLeakyTest = "Listener.LeakyTestForgetsItsThread";

// test name -> the text of its failures ("" if it passed), from --gtest_output=json.
std::map<std::string, std::string> TestFailures(const json& results) {
  std::map<std::string, std::string> out;
  if (!results.contains("testsuites")) return out;
  for (const json& suite : results["testsuites"]) {
    for (const json& test : suite["testsuite"]) {
      std::string failures;
      if (test.contains("failures")) {
        for (const json& failure : test["failures"]) failures += StringField(failure, "failure");
      }
      out[StringField(suite, "name") + "." + StringField(test, "name")] = failures;
    }
  }
  return out;
}

// A test program with the listener, installed one of the two ways.
struct ListenerProgram {
  const char* name;
  const char* path;
};

// gtest prints a parameter with this; the default would dump its bytes.
void PrintTo(const ListenerProgram& program, std::ostream* os) {
  *os << program.name;
}

class ListenerTest : public testing::TestWithParam<ListenerProgram> {};

TEST_P(ListenerTest, FailsExactlyTheTestThatLeaks) {
  TempDir dir;
  const std::string results_path = dir.path() + "/gtest.json";
  RunResult run = RunUnderShim(THREADLEAK_SHIM_PATH,
                               {GetParam().path, "--gtest_output=json:" + results_path}, dir);
  // gtest's own status: a test failed.
  ASSERT_TRUE(run.exited && run.exit_status == 1) << run.Describe() << "\n" << run.output;

  std::map<std::string, std::string> failures = TestFailures(ReadJsonFile(results_path));
  ASSERT_EQ(failures.size(), 4u) << run.output;
  for (const auto& [test, failure] : failures) {
    if (test == kLeakyTest) {
      EXPECT_NE(failure.find("threadleak: 1 thread started by this test is still running; the "
                             "report (trigger \"api\") is in " +
                             ReportPath(dir, run.pid)),
                std::string::npos)
          << failure;
    } else {
      EXPECT_EQ(failure, "") << test;
    }
  }
  EXPECT_NE(run.output.find(std::string("[  FAILED  ] ") + kLeakyTest + " ("), std::string::npos)
      << run.output;

  // The API's report names the forgotten thread; the exit check reports it again.
  std::string error;
  std::vector<json> reports = ReadReports(ReportPath(dir, run.pid), &error);
  ASSERT_EQ(reports.size(), 2u) << error << "\n" << run.output;
  const std::vector<std::string> triggers = {"api", "exit"};
  for (size_t i = 0; i < reports.size(); ++i) {
    EXPECT_EQ(StringField(reports[i], "trigger"), triggers[i]);
    const json& threads = Field(reports[i], "threads");
    ASSERT_TRUE(threads.is_array() && threads.size() == 1) << Summarize(reports[i]);
    EXPECT_EQ(StringField(threads[0], "name"), "forgotten");
    EXPECT_TRUE(StackHasFunction(Field(threads[0], "stack"), "WaitForever"))
        << Summarize(reports[i]);
    EXPECT_TRUE(StackHasFunction(Field(Field(threads[0], "created_by"), "stack"),
                                 "LeakyTestForgetsItsThread"))
        << Summarize(reports[i]);
  }
}

TEST_P(ListenerTest, EveryTestPassesWithoutTheShim) {
  TempDir dir;
  const std::string results_path = dir.path() + "/gtest.json";
  RunResult run = RunProgram({GetParam().path, "--gtest_output=json:" + results_path}, kWithoutShim,
                             dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited && run.exit_status == 0) << run.Describe() << "\n" << run.output;
  std::map<std::string, std::string> failures = TestFailures(ReadJsonFile(results_path));
  EXPECT_EQ(failures.size(), 4u);
  for (const auto& [test, failure] : failures) EXPECT_EQ(failure, "") << test;
}

INSTANTIATE_TEST_SUITE_P(InstalledBy, ListenerTest,
                         testing::Values(ListenerProgram{"OneLineInMain", API_LISTENER_MAIN},
                                         ListenerProgram{"LinkingThreadleakGtest",
                                                         API_LISTENER_AUTO}),
                         [](const testing::TestParamInfo<ListenerProgram>& info) {
                           return std::string(info.param.name);
                         });

// --gtest_brief=1 installs gtest's brief printer after the listener: the leaky test still fails
// with the report's message, and the run with it.
TEST(ListenerBrief, StillFailsTheLeakyTest) {
  TempDir dir;
  RunResult run = RunUnderShim(THREADLEAK_SHIM_PATH, {API_LISTENER_MAIN, "--gtest_brief=1"}, dir);
  ASSERT_TRUE(run.exited && run.exit_status == 1) << run.Describe() << "\n" << run.output;
  EXPECT_NE(run.output.find("threadleak: 1 thread started by this test is still running"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("[  PASSED  ] 3 tests."), std::string::npos) << run.output;
}

}  // namespace
}  // namespace e2e
