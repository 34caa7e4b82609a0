// Item 3 of issue 8: exceptions and unwinding (programs/unwinding.cc). Programs that throw
// across threads, handle their own signals (including the shim's sampling signal and its dump
// signal), run handlers on alternate signal stacks, and recurse near the stack limit must behave
// exactly as without the tool, and a report made meanwhile must not crash them.
// (A C program loading a C++ library that throws: tests/shim, CProgram.CxxExceptions...)
#include <gtest/gtest.h>

#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::Field;
using e2e::TempDir;

// Runs a scenario without the tool, then with it: both must exit 0.
void ExpectSameAsWithoutTheTool(const std::vector<std::string>& argv) {
  TempDir plain_dir, dir;
  ScenarioRun plain = RunScenario(plain_dir, argv, {.preload = false});
  ASSERT_TRUE(plain.ExitedWith(0)) << "the scenario fails even without the tool:\n"
                                   << plain.Describe();
  ScenarioRun run = RunScenario(dir, argv);
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(Unwinding, ExceptionsAcrossThreadsBehaveAsWithoutTheTool) {
  ExpectSameAsWithoutTheTool({RELIABILITY_UNWINDING, "exceptions_across_threads"});
}

TEST(Unwinding, ProgramsOwnSignalHandlersSeeWhatLibcPromises) {
  ExpectSameAsWithoutTheTool({RELIABILITY_UNWINDING, "own_handlers"});
}

TEST(Unwinding, ProgramOwningTheSamplingSignalStillGetsAReportAndNoStrayCalls) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_UNWINDING, "own_signals_leak"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(run.output.find("program handler called"), std::string::npos)
      << "the tool's sampling must not run the program's handler\n"
      << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_GE(report["threads"][0]["stack"].size(), 1u) << e2e::Summarize(report);
}

TEST(Unwinding, ThreadBlockedInAHandlerOnAnAlternateStackIsReportedThroughTheSignalFrame) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_UNWINDING, "altstack_leak", "65536", "mmap"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& stack = report["threads"][0]["stack"];
  EXPECT_TRUE(e2e::StackHasFunction(stack, "AltstackHandlerBlocks")) << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(stack, "WorkerBeforeTheSignal")) << e2e::Summarize(report);
}

// Runs argv without the tool (it must exit 0: the scenario itself checks it can block where it
// does), then under it: the report of its one leaked thread, made without killing it.
json ReportOfAProgramThatRunsFineWithoutTheTool(const TempDir& dir,
                                                const std::vector<std::string>& argv) {
  TempDir plain_dir;
  ScenarioRun plain = RunScenario(plain_dir, argv, {.preload = false});
  EXPECT_TRUE(plain.ExitedWith(0)) << "the scenario fails even without the tool:\n"
                                   << plain.Describe();
  ScenarioRun run = RunScenario(dir, argv);
  EXPECT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode))
      << "the report killed a program that runs fine without the tool\n"
      << run.Describe();
  json report = OnlyReport(dir, run);
  EXPECT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  return report;
}

// Alternate stacks the program runs fine with: the report must not overflow them.
class SmallAltstack : public ::testing::TestWithParam<const char*> {};

TEST_P(SmallAltstack, ReportDoesNotOverflowIt) {
  TempDir dir;
  json report = ReportOfAProgramThatRunsFineWithoutTheTool(
      dir, {RELIABILITY_UNWINDING, "altstack_leak", "6144", GetParam()});
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_GE(report["threads"][0]["stack"].size(), 1u) << e2e::Summarize(report);
}

INSTANTIATE_TEST_SUITE_P(Allocations, SmallAltstack, ::testing::Values("mmap", "malloc"));

TEST(Unwinding, ReportDoesNotOverflowAThreadNearItsStackLimit) {
  // 5000 bytes left: enough to block in pthread_cond_wait (checked without the tool first), not
  // enough for a signal frame plus an unwinder.
  TempDir dir;
  json report = ReportOfAProgramThatRunsFineWithoutTheTool(
      dir, {RELIABILITY_UNWINDING, "deep_recursion", "5000"});
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "cond") << e2e::Summarize(report);
  EXPECT_GE(thread["stack"].size(), 1u) << e2e::Summarize(report);
}

TEST(Unwinding, DumpWhileAThreadHoldsTheLoaderLockFinishesAndTheProgramGoesOn) {
  // libunwind's global cache lock is held across dl_iterate_phdr: with it, the handler of the
  // thread holding the loader's lock waited for a handler that waited for the loader, and the
  // whole process hung with every signal blocked.
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_UNWINDING, "dump_holding_loader_lock"},
                                {.timeout = std::chrono::seconds(20)});
  ASSERT_FALSE(run.result.timed_out) << "the dump hung the process\n" << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "released"), "1") << run.Describe();
  json dump = OnlyReport(dir, run);
  EXPECT_EQ(dump["trigger"], "signal") << e2e::Summarize(dump);
  EXPECT_GE(dump["threads"].size(), 13u) << e2e::Summarize(dump);
}

TEST(Unwinding, DeepThreadWithRoomLeftIsReportedWithItsWholeStack) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_UNWINDING, "deep_recursion", "262144"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "BlockedNearStackLimit"))
      << e2e::Summarize(report);
}

}  // namespace
}  // namespace reliability
