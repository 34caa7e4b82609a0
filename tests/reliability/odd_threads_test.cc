// Item 2 of issue 8: odd threads (programs/odd_threads.cc, early_main.c). Threads that block
// every signal, thread-local destructors, cancellation, pthread_exit from main, the ends that
// skip the check (_exit, quick_exit, abort), a library unloaded under its thread, and a thread
// started before the shim's constructor ran.
//
// Documented behaviour checked here:
// - _exit(), quick_exit() and abort() end the process without a check: no report, the status
//   (or signal) is the program's own.
// - pthread_exit() from main: the process ends when its last thread does, as without the tool;
//   the check then runs from the shim's library destructor and reports what leaked.
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::Field;
using e2e::TempDir;

TEST(OddThreads, ThreadsBlockingEverySignalAreReportedWithoutWaitingForThem) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "signals_blocked"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_LT(run.seconds, 5.0) << "the report must not wait long for threads it cannot signal";
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 2) << e2e::Summarize(report);
  std::set<std::string> states;
  for (const json& thread : report["threads"]) {
    states.insert(e2e::StringField(thread, "state"));
    // The pc the kernel reports, at least.
    EXPECT_GE(thread["stack"].size(), 1u) << e2e::Summarize(report);
  }
  EXPECT_EQ(states, (std::set<std::string>{"cond", "io"})) << e2e::Summarize(report);
}

// A detached thread stuck in a key's destructor is alive: one leak, in a condvar wait, with the
// destructor on its stack.
void ExpectLeakBlockedInDestructor(const char* scenario, const char* destructor) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, scenario});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  EXPECT_EQ(report["threads"][0]["state"], "cond") << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(report["threads"][0]["stack"], destructor))
      << e2e::Summarize(report);
}

TEST(OddThreads, ThreadBlockedInAPthreadKeyDestructorIsReported) {
  ExpectLeakBlockedInDestructor("key_destructor_leak", "KeyDestructorBlocks");
}

// libc's tss_create makes its key without calling pthread_key_create.
TEST(OddThreads, ThreadBlockedInAC11KeyDestructorIsReported) {
  ExpectLeakBlockedInDestructor("tss_destructor_leak", "TssDestructorBlocks");
}

TEST(OddThreads, ThreadBlockedInAThreadLocalDestructorIsReported) {
  ExpectLeakBlockedInDestructor("thread_local_destructor_leak", "BlocksOnDestruction");
}

TEST(OddThreads, DestructorsDoingHookedWorkOnEveryWayOutAreClean) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "destructors_clean"});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "destructors"), "120") << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(OddThreads, CancelledThreadBlockedInItsCleanupHandlerIsReportedWhereItIsNow) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "cancel_cleanup_blocks"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "CleanupBlocksOnMutex"))
      << e2e::Summarize(report);
  // Cancelled in sem_wait, now waiting for a mutex: the state must not be the stale "sem".
  EXPECT_EQ(thread["state"], "mutex") << e2e::Summarize(report);
  std::string mutex = PrintedValue(run.output, "mutex");
  EXPECT_EQ(Field(thread, "object"), mutex) << e2e::Summarize(report);
}

TEST(OddThreads, PthreadExitFromMainEndsWhenTheLastThreadDoesAsWithoutTheTool) {
  TempDir plain_dir, dir;
  ScenarioRun plain = RunScenario(plain_dir, {RELIABILITY_ODD_THREADS, "pthread_exit_main", "300"},
                                  {.preload = false});
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "pthread_exit_main", "300"},
                                {.timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(plain.ExitedWith(0)) << plain.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_LT(run.seconds, plain.seconds + 1.0) << "the tool must not keep the process alive";
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(OddThreads, ThrdExitFromMainEndsWhenTheLastThreadDoesAsWithoutTheTool) {
  TempDir plain_dir, dir;
  ScenarioRun plain = RunScenario(plain_dir, {RELIABILITY_ODD_THREADS, "thrd_exit_main", "300"},
                                  {.preload = false});
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "thrd_exit_main", "300"},
                                {.timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(plain.ExitedWith(0)) << plain.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_LT(run.seconds, plain.seconds + 1.0) << "the tool must not keep the process alive";
}

TEST(OddThreads, PthreadExitFromMainKeepsTheTimeLimitWhileAThreadRuns) {
  // main creates a worker and leaves at once, before the worker may have run: the monitor thread
  // (which enforces timeout_ms) must not take that for the end of the program's threads.
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "pthread_exit_main", "4000"},
                                {.options = "timeout_ms=500", .timeout = std::chrono::seconds(10)});
  EXPECT_TRUE(run.ExitedWith(124)) << run.Describe();
  EXPECT_LT(run.seconds, 3.0) << run.Describe();
}

TEST(OddThreads, PthreadExitFromMainStillReportsAnUnjoinedThreadWithNamedStacks) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "pthread_exit_main_unjoined"},
                                {.timeout = std::chrono::seconds(10)});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "finished");
  // main's thread is gone by then (its /proc/PID files are empty): names must still resolve.
  EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "PthreadExitMainUnjoined"))
      << e2e::Summarize(report);
}

struct Ending {
  const char* how;
  bool exited;
  int status;  // exit status, or the terminating signal
};

class EndsWithoutExit : public ::testing::TestWithParam<Ending> {};

TEST_P(EndsWithoutExit, NoReportAndTheProgramsOwnStatus) {
  TempDir dir;
  const Ending& ending = GetParam();
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "ends_without_exit", ending.how});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  if (ending.exited) {
    EXPECT_TRUE(run.ExitedWith(ending.status)) << run.Describe();
  } else {
    EXPECT_EQ(run.result.signal, ending.status) << run.Describe();
  }
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
  EXPECT_EQ(run.output.find("threadleak"), std::string::npos) << run.Describe();
}

INSTANTIATE_TEST_SUITE_P(Endings, EndsWithoutExit,
                         ::testing::Values(Ending{"_exit", true, 7}, Ending{"quick_exit", true, 5},
                                           Ending{"abort", false, SIGABRT}),
                         [](const auto& info) {
                           std::string name = info.param.how;
                           return name == "_exit" ? std::string("underscore_exit") : name;
                         });

// setpriv(1) keeps CAP_SETGID in its own thread only (capset is per thread), then calls
// setresgid(): glibc applies that to every thread of the process and aborts when one refuses.
// A single-threaded program must stay single-threaded under the tool.
TEST(OddThreads, SingleThreadedProgramChangingItsCredentialsIsNotBroken) {
  if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
    GTEST_SKIP() << "needs root and setpriv(1)";
  }
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                      "--clear-groups", "--", "/bin/true"});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
}

TEST(OddThreads, ThreadOfAnUnloadedLibraryIsReportedWithoutACrash) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_ODD_THREADS, "dlclose_leak", RELIABILITY_UNLOADED_PLUGIN});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "unmapped"), "1") << "the library must really be gone";
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_EQ(thread["state"], "cond");
  EXPECT_GE(thread["stack"].size(), 1u);
  EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "DlcloseLeak"))
      << e2e::Summarize(report);
}

TEST(OddThreads, ThreadStartedBeforeTheShimsConstructorIsReportedWithItsCreator) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EARLY_MAIN});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "early_started"), "1");
  EXPECT_EQ(PrintedValue(run.output, "early_posted_value"), "1");
  json report = OnlyReport(dir, run);
  ASSERT_EQ(Field(report, "leaks"), 1) << e2e::Summarize(report);
  const json& thread = report["threads"][0];
  EXPECT_TRUE(e2e::StackHasFunction(thread["stack"], "early_thread_blocks"))
      << e2e::Summarize(report);
  EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "early_library_constructor"))
      << e2e::Summarize(report);
}

}  // namespace
}  // namespace reliability
