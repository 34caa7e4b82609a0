// Issue 13: calls that change the whole process see it as the program made it
// (programs/process_calls.c), and the dump signal keeps its usual effect for anyone but
// `threadleak dump`. Every scenario runs with and without the shim and must print the same.
#include <gtest/gtest.h>

#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::TempDir;

// Runs `argv` with and without the shim (extra options for the shim run) and expects the same
// output and exit status, with no report.
void ExpectSameWithAndWithout(const std::vector<std::string>& argv,
                              const std::string& options = "") {
  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, argv, {.preload = false});
  TempDir dir;
  ScenarioRun run = RunScenario(dir, argv, {.options = options});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(run.result.exited, bare.result.exited) << run.Describe() << bare.Describe();
  EXPECT_EQ(run.result.exit_status, bare.result.exit_status) << run.Describe() << bare.Describe();
  EXPECT_EQ(run.result.signal, bare.result.signal) << run.Describe() << bare.Describe();
  EXPECT_EQ(run.output, bare.output);
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(ProcessCalls, UnshareOfAUserNamespaceAfterThreadsWorksAsWithoutTheTool) {
  ExpectSameWithAndWithout({RELIABILITY_PROCESS_CALLS, "unshare_user"});
}

TEST(ProcessCalls, UnshareWorksUnderATimeLimitToo) {
  // The time limit starts threadleak's thread at once; it steps out of the way, and a timer
  // keeps the limit.
  ExpectSameWithAndWithout({RELIABILITY_PROCESS_CALLS, "unshare_user"}, ":timeout_ms=60000");
}

TEST(ProcessCalls, AnUnshareThatSucceedsLeavesErrnoAsItWasWhateverTheToolsStepAsideMet) {
  // No signal may queue, so the timer that keeps the time limit cannot be made: the tool's
  // failed call must not show in the program's errno, and the lost limit is said once.
  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_PROCESS_CALLS, "unshare_errno"}, {.preload = false});
  ASSERT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  ASSERT_EQ(bare.output, "unshare=0 errno=77\n") << bare.Describe();
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESS_CALLS, "unshare_errno"},
                                {.options = ":timeout_ms=60000"});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(run.output,
            "threadleak: warning: timeout_ms is not kept from here on: timer_create: EAGAIN\n"
            "unshare=0 errno=77\n")
      << run.Describe();
}

TEST(ProcessCalls, ATimeLimitIsKeptAfterTheToolsThreadSteppedAside) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {"/bin/sh", "-c", std::string("exec unshare -U sleep 5")},
                                {.options = ":timeout_ms=300"});
  EXPECT_TRUE(run.ExitedWith(124)) << run.Describe();
  EXPECT_LT(run.seconds, 4.0) << run.Describe();
}

TEST(ProcessCalls, SeccompSandboxedProgramIsNotKilledAtExit) {
  ExpectSameWithAndWithout({RELIABILITY_PROCESS_CALLS, "seccomp"});
}

// A filter the process inherited (a service manager's, a container runtime's) is one the hooks
// never saw installed: it may kill the process, or refuse, for process_vm_readv, which the
// program never calls. The exit report reads memory through /proc/PID/mem instead: the program
// ends as it would with any leak, and the leaked thread has its whole stack.
TEST(ProcessCalls, UnderAnInheritedFilterAgainstProcessVmReadvTheLeakIsReportedWithItsStack) {
  for (const char* mode : {"kill", "errno"}) {
    SCOPED_TRACE(mode);
    const std::vector<std::string> argv = {RELIABILITY_PROCESS_CALLS, "inherited_filter", mode};
    TempDir bare_dir;
    ScenarioRun bare = RunScenario(bare_dir, argv, {.preload = false});
    ASSERT_TRUE(bare.ExitedWith(0)) << bare.Describe();
    ASSERT_EQ(bare.output, "left a thread waiting\n") << bare.Describe();
    TempDir dir;
    ScenarioRun run = RunScenario(dir, argv);
    EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
    EXPECT_EQ(run.output, bare.output);
    json report = OnlyReport(dir, run);
    ASSERT_EQ(e2e::Field(report, "leaks"), 1) << e2e::Summarize(report);
    const json& thread = report["threads"][0];
    EXPECT_EQ(thread["state"], "cond") << thread.dump();
    EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "WaitsUnderTheFilter")) << thread.dump();
    EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "LeakUnderFilter"))
        << thread.dump();
  }
}

TEST(ProcessCalls, AnIgnoredDumpSignalStaysIgnoredForTheProcessAndItsChildren) {
  ExpectSameWithAndWithout(
      {"/bin/sh", "-c",
       std::string("trap '' USR2; exec ") + RELIABILITY_PROCESS_CALLS + " sig_ign"});
}

TEST(ProcessCalls, TheDumpSignalFromAnyoneElseHasItsDefaultEffect) {
  // `threadleak -- sh -c 'kill -USR2 $$; echo survived'`: dies of SIGUSR2, as without the tool.
  ExpectSameWithAndWithout({"/bin/sh", "-c", "kill -USR2 $$; echo survived"});
}

TEST(ProcessCalls, ARunningThreadThatBlocksEverySignalIsReportedWithTheReasonItHasNoStack) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_PROCESS_CALLS, "spin_masked"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(e2e::Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "running");
  EXPECT_TRUE(thread["stack"].empty());
  EXPECT_NE(thread["stack_missing"].get<std::string>().find("sampling signal blocked"),
            std::string::npos)
      << thread.dump();
}

TEST(ProcessCalls, GoogleTestDeathTestsByTheDumpSignalPass) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_DEATH_TESTS});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_NE(run.output.find("[  PASSED  ] 2 tests"), std::string::npos) << run.Describe();
}

}  // namespace
}  // namespace reliability
