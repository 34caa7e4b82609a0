// Issue 13, a report that needs nothing the program can hold (programs/held_locks.c): a leaked
// thread holding malloc's lock, the loader's lock or stdout's lock at exit, and exit() called
// from a signal handler that interrupted malloc. The shim's side of a report takes no lock and
// allocates nothing; the report writer, a process of its own, does the rest. Without the fix,
// the first two hang forever, the third loses the program's pending line, and the fourth hangs
// in most runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

namespace fs = std::filesystem;
using e2e::Field;
using e2e::TempDir;

// The one leak of `run`, with `function` in its stack.
void ExpectOneLeakIn(const TempDir& dir, const ScenarioRun& run, const std::string& function) {
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], function))
      << e2e::Summarize(report);
}

TEST(HeldLocks, LeakedThreadHoldingMallocsLockIsReported) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_HELD_LOCKS, "malloc_lock"},
                                {.timeout = std::chrono::seconds(30)});
  ASSERT_FALSE(run.result.timed_out) << "the exit hung behind malloc's lock\n" << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_NE(run.output.find("exiting"), std::string::npos) << run.Describe();
  ExpectOneLeakIn(dir, run, "held_malloc_stats");

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_HELD_LOCKS, "malloc_lock"},
                                 {.preload = false, .timeout = std::chrono::seconds(30)});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

TEST(HeldLocks, LeakedThreadHoldingTheLoadersLockIsReported) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_HELD_LOCKS, "loader_lock", RELIABILITY_BLOCKING_CONSTRUCTOR},
                  {.timeout = std::chrono::seconds(30)});
  // (Without the tool this exit hangs for good: glibc's _dl_fini waits for the loader's lock.
  // With it, the leak is reported and the process ends with the leak status.)
  ASSERT_FALSE(run.result.timed_out) << "the exit hung behind the loader's lock\n"
                                     << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_NE(run.output.find("exiting"), std::string::npos) << run.Describe();
  ExpectOneLeakIn(dir, run, "never_returns");
}

TEST(HeldLocks, LeakedThreadHoldingStdoutsLockLeavesThePendingLineFlushed) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_HELD_LOCKS, "stdout_lock"},
                                {.timeout = std::chrono::seconds(30)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  // glibc's exit() flushes a stream whose lock a thread keeps; so does the shim after a report.
  EXPECT_NE(run.output.find("pending line"), std::string::npos) << run.Describe();
  ExpectOneLeakIn(dir, run, "held_stdout");

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_HELD_LOCKS, "stdout_lock"},
                                 {.preload = false, .timeout = std::chrono::seconds(30)});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_NE(bare.output.find("pending line"), std::string::npos) << bare.Describe();
}

// memcached's pattern: exit() from a SIGTERM handler, landing while main is inside malloc.
TEST(HeldLocks, ExitFromASignalHandlerThatInterruptedMallocEndsNormally) {
  constexpr int kRuns = 100;
  int normal = 0;
  int reported = 0;
  std::string failures;
  for (int i = 0; i < kRuns; ++i) {
    const bool leak = i % 4 == 0;  // a quarter with a leak: each makes a report
    const std::string delay_us = std::to_string(2'000 + (i * 7'919) % 30'000);
    TempDir dir;
    ScenarioRun run =
        RunScenario(dir, {RELIABILITY_HELD_LOCKS, "exit_in_malloc", delay_us, leak ? "1" : "0"},
                    {.timeout = std::chrono::seconds(30)});
    const int expected = leak ? kLeakExitCode : 0;
    if (run.ExitedWith(expected)) {
      ++normal;
      if (leak && e2e::ReportFiles(dir).size() == 1) ++reported;
    } else if (failures.size() < 4000) {
      failures += "run " + std::to_string(i) + ": " + run.Describe() + "\n";
    }
  }
  EXPECT_EQ(normal, kRuns) << failures;
  EXPECT_EQ(reported, kRuns / 4);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_HELD_LOCKS, "exit_in_malloc", "5000", "1"},
                                 {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

// The writer missing (a shim copied alone): the shim's own plain report, never a lost one.
TEST(HeldLocks, WithoutTheWriterThePlainReportIsWritten) {
  TempDir dir;
  const std::string copy_dir = dir.path() + "/alone";
  fs::create_directory(copy_dir);
  fs::copy_file(THREADLEAK_SHIM_PATH, copy_dir + "/libthreadleak.so");
  ScenarioRun run = RunScenario(dir, {RELIABILITY_HELD_LOCKS, "stdout_lock"},
                                {.preload_value = copy_dir + "/libthreadleak.so",
                                 .json_to_files = false,
                                 .timeout = std::chrono::seconds(30)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_NE(run.output.find("found 1 unexpected thread (report writer unavailable: "
                            "threadleak-write-report not found next to libthreadleak.so)"),
            std::string::npos)
      << run.Describe();
  EXPECT_NE(run.output.find("in state io"), std::string::npos) << run.Describe();
}

}  // namespace
}  // namespace reliability
