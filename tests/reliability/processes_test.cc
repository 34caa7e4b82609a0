// Item 1 of issue 8: processes (programs/processes.cc). fork while other threads are inside the
// tool; fork from a worker; children started with vfork+exec, posix_spawn, exec from a thread,
// system() and popen().
//
// Which children are watched: LD_PRELOAD and THREADLEAK_OPTIONS are inherited, so every child
// that is exec'd is watched too and reports in its own file (log_path.CHILD_PID); a shell in
// between (system, popen) is watched as well but has no threads to report. The parent's status
// never depends on its children's reports.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::Field;
using e2e::TempDir;

// Reports in `dir` from processes other than `parent`.
std::vector<json> ChildReports(const TempDir& dir, int parent) {
  std::vector<json> reports;
  for (const std::string& path : e2e::ReportFiles(dir)) {
    if (path == e2e::ReportPath(dir, parent)) continue;
    std::string error;
    auto report = e2e::ReadReport(path, &error);
    EXPECT_TRUE(report.has_value()) << error;
    if (report) reports.push_back(*report);
  }
  return reports;
}

// One child leaked exactly one thread, blocked in leaky_child's child_blocked_forever, and no
// thread of the parent's shows in its report.
void ExpectOneChildLeak(const TempDir& dir, const ScenarioRun& run) {
  EXPECT_FALSE(std::filesystem::exists(e2e::ReportPath(dir, run.result.pid)))
      << "the parent has no leak and must not report\n"
      << run.Describe();
  std::vector<json> reports = ChildReports(dir, run.result.pid);
  ASSERT_EQ(reports.size(), 1u) << run.Describe();
  const json& report = reports[0];
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "child_blocked_forever"))
      << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(Field(thread, "created_by")["stack"], "start_leak"))
      << e2e::Summarize(report);
  std::string child_pid = PrintedValue(run.output, "child_pid");
  if (!child_pid.empty()) {
    EXPECT_EQ(Field(report, "pid"), std::stoi(child_pid));
  }
}

TEST(Processes, ForkWhileOtherThreadsAreInsideTheToolNeverDeadlocksTheChild) {
  TempDir dir;
  // 2 x 150 forks, from main and from a worker, while 4 threads create, join, detach and wait.
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESSES, "fork_hammer", "150"},
                                {.timeout = std::chrono::seconds(90)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "bad"), "0") << run.Describe();
  EXPECT_NE(PrintedValue(run.output, "forks"), "") << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << "no process leaked\n" << run.Describe();
}

TEST(Processes, ChildForkedFromAWorkerReportsOnlyItsOwnThreadWithItsStacks) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESSES, "fork_from_thread_child_leaks"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << "the parent saw child status "
                                 << PrintedValue(run.output, "child_status") << "\n"
                                 << run.Describe();
  std::vector<json> reports = ChildReports(dir, run.result.pid);
  ASSERT_EQ(reports.size(), 1u) << run.Describe();
  const json& report = reports[0];
  const int child = std::stoi(PrintedValue(run.output, "child_pid"));
  EXPECT_EQ(Field(report, "pid"), child);
  ASSERT_EQ(Field(report, "leaks"), 1) << "hammer threads of the parent must not show\n"
                                       << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "cond");
  EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "ChildBlockedForever"))
      << e2e::Summarize(report);
  // Created by the forking worker, which is the child's only (main) thread now.
  EXPECT_EQ(thread["created_by"]["tid"], child) << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "ForkFromWorker"))
      << e2e::Summarize(report);
}

TEST(Processes, VforkExecChildIsWatchedAndReportsInItsOwnFile) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_PROCESSES, "vfork_exec", RELIABILITY_LEAKY_CHILD});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "66") << run.Describe();
  ExpectOneChildLeak(dir, run);
}

TEST(Processes, PosixSpawnChildIsWatchedAndReportsInItsOwnFile) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_PROCESSES, "posix_spawn", RELIABILITY_LEAKY_CHILD});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "66") << run.Describe();
  ExpectOneChildLeak(dir, run);
}

TEST(Processes, SystemChildIsWatchedAndTheParentStatusIsUnaffected) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESSES, "system", RELIABILITY_LEAKY_CHILD});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "66") << run.Describe();
  EXPECT_NE(run.output.find("child says system"), std::string::npos) << run.Describe();
  ExpectOneChildLeak(dir, run);
}

TEST(Processes, FollowChildrenOffLeavesChildrenUnwatched) {
  // The same leaky child as above, with follow_children=0: it runs without the shim (its leak
  // goes unseen, its status is its own) and the parent is watched as before.
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESSES, "system", RELIABILITY_LEAKY_CHILD},
                                {.options = "follow_children=0"});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "0") << run.Describe();
  EXPECT_NE(run.output.find("child says system"), std::string::npos) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(Processes, PopenChildOutputArrivesAndItsLeakIsReportedInItsOwnFile) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESSES, "popen", RELIABILITY_LEAKY_CHILD});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "read_child_output"), "1") << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "child_status"), "66") << run.Describe();
  ExpectOneChildLeak(dir, run);
}

TEST(Processes, ExecFromAThreadReportsOnlyTheNewImagesThreads) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_PROCESSES, "exec_from_thread", RELIABILITY_LEAKY_CHILD});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_NE(run.output.find("child says exec"), std::string::npos) << run.Describe();
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);  // exec keeps the pid
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.Describe();
  ASSERT_EQ(Field(*report, "leaks"), 1) << e2e::Summarize(*report);
  EXPECT_TRUE(e2e::StackHasFunction((*report)["threads"][0]["stack"], "child_blocked_forever"))
      << e2e::Summarize(*report);
}

}  // namespace
}  // namespace reliability
