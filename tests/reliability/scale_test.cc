// Item 4 of issue 8: scale and churn (programs/scale.cc). 10,000 live threads at exit; 100,000
// threads created and joined with flat memory; a bounded soak of every kind of wait while
// threads come and go, ended cleanly and by exit() in the middle of the churn. These tests run
// alone (RUN_SERIAL): they need the machine's cores and a good share of pid_max.
// (Dumps while threads churn: tests/staging.)
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::Field;
using e2e::TempDir;

TEST(Scale, TenThousandLiveThreadsAreReportedWithinThirtySeconds) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_SCALE, "live", "10000"}, {.timeout = std::chrono::seconds(90)});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  const double create_seconds = std::stod(PrintedValue(run.output, "create_seconds"));
  EXPECT_LT(run.seconds - create_seconds, 30.0) << "the exit check and report took too long";
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);
  ASSERT_TRUE(report.has_value()) << error;
  ASSERT_EQ(Field(*report, "leaks"), 10000);
  size_t with_function = 0;
  for (const json& thread : (*report)["threads"]) {
    EXPECT_EQ(thread["state"], "sem");
    if (e2e::StackHasFunction(thread["stack"], "ParkedForever")) ++with_function;
  }
  EXPECT_EQ(with_function, 10000u) << "every thread's stack must reach the program's function";
  std::printf("[ info ] 10,000 threads: %.1f s in all, %.1f s creating them\n", run.seconds,
              create_seconds);
}

TEST(Scale, HundredThousandThreadsCreatedAndJoinedWithFlatMemory) {
  TempDir plain_dir, dir;
  ScenarioRun plain =
      RunScenario(plain_dir, {RELIABILITY_SCALE, "churn", "100000"}, {.preload = false});
  ScenarioRun run = RunScenario(dir, {RELIABILITY_SCALE, "churn", "100000"},
                                {.timeout = std::chrono::seconds(90)});
  ASSERT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
  const long at_10k = std::stol(PrintedValue(run.output, "rss_kb_at_10k"));
  const long at_100k = std::stol(PrintedValue(run.output, "rss_kb_at_total"));
  // A leaked thread record is most of a kilobyte: 90,000 of them would add tens of MB.
  EXPECT_LT(at_100k - at_10k, 2048)
      << "RSS grew from " << at_10k << " KB at 10k threads to " << at_100k << " KB at 100k";
  std::printf(
      "[ info ] RSS %ld KB at 10k, %ld KB at 100k threads; %s s with the tool, %s s "
      "without\n",
      at_10k, at_100k, PrintedValue(run.output, "churn_seconds").c_str(),
      PrintedValue(plain.output, "churn_seconds").c_str());
}

// The bounded soak: 7 threads mix create/join, create/detach, a producer and a consumer on a
// mutex and two condition variables, a shared_mutex, a semaphore, async and promises.
constexpr const char* kSoakSeconds = "8";

TEST(Soak, MixedWorkloadEndedCleanlyIsNeverReported) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_SCALE, "soak", kSoakSeconds, "clean"}, {.linger_ms = 500});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
  EXPECT_GT(std::stol(PrintedValue(run.output, "operations")), 1000);
}

TEST(Soak, ExitInTheMiddleOfTheChurnReportsOnlyRealThreadsAndEnds) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_SCALE, "soak", kSoakSeconds, "exit_mid_churn"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);
  ASSERT_TRUE(report.has_value()) << error;
  const std::set<std::string> states = {"mutex", "cond",  "rwlock", "sem",     "barrier", "join",
                                        "futex", "sleep", "io",     "running", "finished"};
  ASSERT_GE(Field(*report, "leaks"), 7) << "the soakers are still running";
  EXPECT_EQ(Field(*report, "leaks"), (*report)["threads"].size());
  std::set<int> tids;
  for (const json& thread : (*report)["threads"]) {
    EXPECT_EQ(states.count(e2e::StringField(thread, "state")), 1u) << thread.dump();
    const int tid = Field(thread, "tid").is_number() ? Field(thread, "tid").get<int>() : -1;
    EXPECT_GT(tid, 0) << "not a thread id: " << thread.dump();
    EXPECT_TRUE(tids.insert(tid).second) << "a thread twice: " << thread.dump();
    EXPECT_NE(Field(thread, "tid"), run.result.pid) << "the main thread is never a leak";
  }
}

}  // namespace
}  // namespace reliability
