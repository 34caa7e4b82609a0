// Which test a leaked thread belongs to, read from GoogleTest's state when the thread was created
// (preload/test_frameworks/gtest_state.h), in a GoogleTest program built with -O2 and not changed
// for threadleak (programs/gtest_attribution.cc): each of its threads is found by name in the
// report.
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "support.h"

namespace e2e {
namespace {

using nlohmann::json;

struct Attribution {
  std::string test;    // "" for null
  std::string source;  // "" for null
  const json* thread = nullptr;
};

// The report's threads by name.
std::map<std::string, Attribution> ByName(const json& report) {
  std::map<std::string, Attribution> threads;
  for (const json& thread : Field(report, "threads")) {
    threads[StringField(thread, "name")] = {StringField(thread, "test"),
                                            StringField(thread, "test_source"), &thread};
  }
  return threads;
}

json RunAttribution(const TempDir& dir, const std::string& program, RunResult* run) {
  *run = RunUnderShim(THREADLEAK_SHIM_PATH, {program}, dir);
  std::string error;
  auto report = ReadReport(ReportPath(dir, run->pid), &error);
  EXPECT_TRUE(report.has_value()) << error << "\n" << run->output;
  return report.value_or(json());
}

TEST(TestAttribution, EachThreadIsNamedWithTheTestThatRanWhenItWasCreated) {
  TempDir dir;
  RunResult run;
  json report = RunAttribution(dir, E2E_GTEST_ATTRIBUTION, &run);
  EXPECT_EQ(run.exit_status, 66) << run.output;
  std::map<std::string, Attribution> threads = ByName(report);
  struct Expected {
    const char* thread;
    const char* test;
    const char* source;
  };
  for (const Expected& expected : {
           // TestBody tail-calls the helper: no TestBody frame in the creation stack.
           Expected{"tail-helper", "TailCall.HelperStartsTheThread", "gtest"},
           // The pool's worker, suite-level itself, started it while the test ran.
           Expected{"pool-task", "Pool.WorkerStartsAThreadForTheTest", "gtest"},
           Expected{"outliving", "Inherit.ThreadOutlivesItsTest", "gtest"},
           // Created by that thread after the last test: its creator's test.
           Expected{"outliving-child", "Inherit.ThreadOutlivesItsTest", "creator"},
           // The singleton's thread was created while its first user ran: that test.
           Expected{"lazy-ticker", "Lazy.FirstUserOfTheSingleton", "gtest"},
           // Suite-level: before any test, by a suite-level thread, in a suite's set-up.
           Expected{"before-tests", "", "suite"},
           Expected{"pool-worker", "", "suite"},
           Expected{"suite-setup", "", "suite"},
           // After the last test, on a record a test's thread had.
           Expected{"after-tests", "", "suite"},
       }) {
    SCOPED_TRACE(expected.thread);
    auto found = threads.find(expected.thread);
    ASSERT_NE(found, threads.end()) << Summarize(report);
    EXPECT_EQ(found->second.test, expected.test);
    EXPECT_EQ(found->second.source, expected.source);
  }
  // What the stack alone could not tell: the tail call left no TestBody to find.
  const json& tail = *threads["tail-helper"].thread;
  EXPECT_FALSE(StackHasFunction(Field(Field(tail, "created_by"), "stack"), "TestBody"))
      << tail.dump();
  EXPECT_TRUE(StackHasFunction(Field(Field(tail, "created_by"), "stack"), "StartBlocked"));
}

TEST(TestAttribution, JUnitNamesTheClassWithTheTest) {
  TempDir dir;
  RunResult run;
  json report = RunAttribution(dir, E2E_GTEST_ATTRIBUTION, &run);
  RunResult junit =
      RunProgram({E2E_WRAPPER, "report", "--format", "junit", ReportPath(dir, run.pid)}, {},
                 dir.path() + "/junit.xml");
  EXPECT_EQ(junit.exit_status, 1) << junit.output;  // leaks found
  EXPECT_NE(junit.output.find("classname=\"TailCall.HelperStartsTheThread\""), std::string::npos)
      << junit.output;
  EXPECT_NE(junit.output.find("classname=\"Pool.WorkerStartsAThreadForTheTest\""),
            std::string::npos)
      << junit.output;
}

TEST(TestAttribution, TextSaysTheTestOrThatNoneRan) {
  TempDir dir;
  RunResult run =
      RunProgram({E2E_GTEST_ATTRIBUTION},
                 {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", "format=text"}},
                 dir.path() + "/output.txt");
  EXPECT_EQ(run.exit_status, 66) << run.output;
  EXPECT_NE(run.output.find(", in test TailCall.HelperStartsTheThread:\n"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find(", outside any test (suite-level):\n"), std::string::npos)
      << run.output;
}

TEST(TestAttribution, AStrippedProgramFallsBackToTheCreationStack) {
  TempDir dir;
  // No .symtab: neither GoogleTest's singleton nor TestBody can be found by name.
  const std::string stripped = dir.path() + "/stripped";
  ASSERT_EQ(std::system(("strip -o " + stripped + " " + E2E_GTEST_ATTRIBUTION).c_str()), 0);
  RunResult run;
  json report = RunAttribution(dir, stripped, &run);
  EXPECT_EQ(run.exit_status, 66) << run.output;
  for (const auto& [name, attribution] : ByName(report)) {
    EXPECT_EQ(attribution.source, "") << name;
    EXPECT_EQ(attribution.test, "") << name;
  }
  EXPECT_EQ(ByName(report).size(), 10u) << Summarize(report);
}

TEST(TestAttribution, ReadingGoogleTestChangesNothingTheProgramSees) {
  // Tests that leak nothing: the same output and status with and without the shim.
  TempDir dir;
  const std::vector<std::string> argv = {E2E_GTEST_ATTRIBUTION, "--gtest_filter=Transparent.*",
                                         "--gtest_print_time=0"};
  RunResult plain = RunProgram(argv, {{"LD_PRELOAD", std::nullopt}}, dir.path() + "/plain.txt");
  RunResult shimmed =
      RunProgram(argv, {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}}, dir.path() + "/shim.txt");
  EXPECT_EQ(plain.exit_status, 0) << plain.output;
  EXPECT_EQ(shimmed.exit_status, plain.exit_status) << shimmed.output;
  EXPECT_EQ(shimmed.output, plain.output);
}

}  // namespace
}  // namespace e2e
