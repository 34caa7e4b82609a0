// Issue 13, fork and exit (programs/exits.c): the exit check runs once per process whichever
// thread gets there first; children made while a report runs, or by _Fork and vfork (no fork
// handlers), never hang and never speak for their parent. Each program also runs without the
// shim, for the status it has there.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::Field;
using e2e::TempDir;

// The parent's report is the only one in `dir`, and names exactly its leaked thread.
void ExpectOnlyTheParentsLeak(const TempDir& dir, const ScenarioRun& run) {
  ASSERT_EQ(e2e::ReportFiles(dir).size(), 1u) << "a child reported\n" << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "exits_blocked_forever"))
      << e2e::Summarize(report);
}

TEST(Exits, TwoThreadsCallingExitAtOnceGiveExactlyOneReport) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    TempDir dir;
    ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "concurrent_exit"});
    ASSERT_FALSE(run.result.timed_out) << run.Describe();
    EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << "attempt " << attempt << "\n" << run.Describe();
    // The threads calling exit() are not leaks: only the third one is.
    ExpectOnlyTheParentsLeak(dir, run);
    if (HasFailure()) return;
  }
  TempDir dir;
  ScenarioRun bare = RunScenario(dir, {RELIABILITY_EXITS, "concurrent_exit"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

// Main ended with pthread_exit: its pid names a zombie with no memory, and a read of the process
// through it fails (process_vm_readv: ESRCH). The waiter is still seen in its condition variable,
// not as a bare futex wait.
TEST(Exits, AfterMainEndedTheReportStillReadsTheProcess) {
  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_EXITS, "main_gone"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "main_gone"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_EQ(report["threads"][0]["state"], "cond") << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], "exits_waits_on_cond"))
      << e2e::Summarize(report);
}

TEST(Exits, VforkChildCallingExitAfterAFailedExecLeavesTheParentsCheckAlone) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "vfork_exit"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "127") << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << "the parent's leak went unreported\n"
                                             << run.Describe();
  ExpectOnlyTheParentsLeak(dir, run);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_EXITS, "vfork_exit"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(PrintedValue(bare.output, "child_status"), "127") << bare.Describe();
}

TEST(Exits, ForkWithoutHandlersChildDoesNotReportTheParentsThreads) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "fork_child_exit", "3"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "children_normal"), "3") << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  ExpectOnlyTheParentsLeak(dir, run);

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXITS, "fork_child_exit", "3"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(PrintedValue(bare.output, "children_normal"), "3") << bare.Describe();
}

TEST(Exits, ChildrenForkedDuringTheExitChecksGracePeriodExitNormally) {
  TempDir dir;
  // The leaked thread forks while the exit check waits for it to end (linger_ms).
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "fork_in_grace", "20"},
                                {.linger_ms = 3000, .timeout = std::chrono::seconds(90)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "children_hung"), "0") << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "children_normal"), "20") << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  ASSERT_EQ(e2e::ReportFiles(dir).size(), 1u) << "a child reported\n" << run.Describe();

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXITS, "fork_in_grace", "20"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

TEST(Exits, ChildrenForkedWhileDumpsAreWrittenExitNormally) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "fork_during_dumps", "40"},
                                {.timeout = std::chrono::seconds(90)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_NE(PrintedValue(run.output, "dumps"), "0") << run.Describe();
  // One line per child.
  EXPECT_EQ(LinesStartingWith(run.output, "children_normal=1").size(), 40u) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXITS, "fork_during_dumps", "40"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(LinesStartingWith(bare.output, "children_normal=1").size(), 40u) << bare.Describe();
}

// Threads that every rule suppresses (a runtime's, alive until exit by design) leave nothing to
// wait for: the exit goes on at once instead of waiting out the grace period — here a minute,
// which the run's 20 s limit would not survive.
TEST(Exits, SurvivorsThatAreAllSuppressedSkipTheGracePeriod) {
  TempDir dir;
  const std::string rules = dir.path() + "/rules.supp";
  {
    std::ofstream out(rules);
    out << "any:exits_blocked_forever\n";
  }
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "fork_child_exit", "0"},
                                {.options = "suppressions=" + rules,
                                 .linger_ms = 60'000,
                                 .timeout = std::chrono::seconds(20)});
  ASSERT_FALSE(run.result.timed_out) << "the grace period was waited out\n" << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(Exits, ChildrenForkedWhileTheWatchdogReportsExitNormally) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXITS, "fork_during_watchdog", "40"},
                                {.options = "watchdog_ms=1", .timeout = std::chrono::seconds(90)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(LinesStartingWith(run.output, "children_normal=1").size(), 40u) << run.Describe();
  // The watchdog did report meanwhile (the parent's log), and no child wrote one of its own.
  ASSERT_EQ(e2e::ReportFiles(dir).size(), 1u) << run.Describe();

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXITS, "fork_during_watchdog", "40"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(LinesStartingWith(bare.output, "children_normal=1").size(), 40u) << bare.Describe();
}

}  // namespace
}  // namespace reliability
