// C11 threads (<threads.h>): glibc routes thrd_*, mtx_* and cnd_* past the pthread hooks; the C11
// hooks must give them the same records, states, owners, deadlocks and verdicts.
#include <gtest/gtest.h>

#include <set>

#include "runtimes_support.h"

namespace runtimes {
namespace {

using e2e::Field;
using e2e::StringField;

const json* ThreadNamed(const json& report, const std::string& name) {
  for (const json& thread : Field(report, "threads")) {
    if (StringField(thread, "name") == name) return &thread;
  }
  return nullptr;
}

TEST(C11Threads, CleanProgramRunsAsWithoutTheTool) {
  e2e::TempDir dir;
  e2e::RunResult plain = RunWithoutShim({C11_THREADS, "clean"}, dir);
  Outcome outcome = RunUnderShim({C11_THREADS, "clean"}, dir);
  EXPECT_EQ(plain.exit_status, 0) << plain.output;
  EXPECT_EQ(outcome.run.exit_status, plain.exit_status) << outcome.run.output;
  EXPECT_EQ(outcome.run.output, plain.output);
  EXPECT_NE(plain.output.find("sum 83, once 1, timedwait timed out"), std::string::npos);
  EXPECT_FALSE(outcome.report) << e2e::Summarize(*outcome.report);
}

TEST(C11Threads, LeakedWaiterNamesItsCreatorAndItsConditionVariable) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({C11_THREADS, "leak"}, dir);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  ASSERT_EQ(Leaked(*outcome.report).size(), 1u) << e2e::Summarize(*outcome.report);
  const json* waiter = ThreadNamed(*outcome.report, "c11-waiter");
  ASSERT_NE(waiter, nullptr) << e2e::Summarize(*outcome.report);
  EXPECT_EQ(StringField(*waiter, "state"), "cond");
  // Its cnd_t is a global: reachable from the program's data, so never "definite" (the
  // reachability proof, README "Abandoned threads").
  EXPECT_EQ(StringField(*waiter, "certainty"), "possible") << StringField(*waiter, "reason");
  EXPECT_EQ(StringField(*waiter, "basis"), "reachable") << StringField(*waiter, "reason");
  EXPECT_TRUE(e2e::StackHasFunction(Field(*waiter, "stack"), "cnd_wait"));
  const json& creator = Field(*waiter, "created_by");
  EXPECT_TRUE(Field(creator, "tid").is_number()) << creator.dump();
  EXPECT_TRUE(e2e::StackHasFunction(Field(creator, "stack"), "StartC11Waiter")) << creator.dump();
}

TEST(C11Threads, AbBaDeadlockOnMtxIsFound) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({C11_THREADS, "deadlock"}, dir);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  const json& deadlocks = Field(*outcome.report, "deadlocks");
  ASSERT_EQ(deadlocks.size(), 1u) << outcome.report->dump();
  EXPECT_EQ(Field(deadlocks[0], "tids").size(), 2u);
  for (const char* name : {"c11-locker-a", "c11-locker-b"}) {
    const json* locker = ThreadNamed(*outcome.report, name);
    ASSERT_NE(locker, nullptr) << e2e::Summarize(*outcome.report);
    EXPECT_EQ(StringField(*locker, "state"), "mutex");
    EXPECT_EQ(StringField(*locker, "verdict"), "deadlocked");
  }
}

TEST(C11Threads, WaiterSignalledByALiveThreadIsOnlyPossiblyLeaked) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({C11_THREADS, "signalled"}, dir);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  const json* waiter = ThreadNamed(*outcome.report, "c11-waiter");
  ASSERT_NE(waiter, nullptr) << e2e::Summarize(*outcome.report);
  EXPECT_EQ(StringField(*waiter, "state"), "cond");
  EXPECT_EQ(StringField(*waiter, "certainty"), "possible") << StringField(*waiter, "reason");
  EXPECT_FALSE(StringField(*waiter, "reason").empty());
}

TEST(C11Threads, ThrdJoinOnAHungThreadIsAJoinWait) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({C11_THREADS, "join"}, dir);
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  ASSERT_TRUE(outcome.report) << outcome.run.output;
  const json* joiner = ThreadNamed(*outcome.report, "c11-joiner");
  const json* waiter = ThreadNamed(*outcome.report, "c11-waiter");
  ASSERT_NE(joiner, nullptr) << e2e::Summarize(*outcome.report);
  ASSERT_NE(waiter, nullptr) << e2e::Summarize(*outcome.report);
  EXPECT_EQ(StringField(*joiner, "state"), "join");
  // The thread it joins waits on a global cnd_t, which a live thread could still signal: the
  // join may end too.
  EXPECT_EQ(StringField(*joiner, "certainty"), "possible") << StringField(*joiner, "reason");
  ASSERT_EQ(Field(*joiner, "blocked_by").size(), 1u) << joiner->dump();
  EXPECT_EQ(Field(*joiner, "blocked_by")[0], Field(*waiter, "tid")) << joiner->dump();
}

// With the watchdog on, lock waits are recorded by the lock hooks (their start is needed):
// mtx_lock's too.
TEST(C11Threads, WatchdogSeesMtxLockWaits) {
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({C11_THREADS, "deadlock"}, dir, "watchdog_ms=30");
  EXPECT_EQ(outcome.run.exit_status, 66) << outcome.run.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, outcome.run.pid), &error);
  ASSERT_FALSE(reports.empty()) << error;
  std::set<std::string> watched;
  for (const json& report : reports) {
    if (StringField(report, "trigger") != "watchdog") continue;
    for (const json& thread : Field(report, "threads")) {
      if (StringField(thread, "state") == "mutex") watched.insert(StringField(thread, "name"));
    }
  }
  EXPECT_EQ(watched, (std::set<std::string>{"c11-locker-a", "c11-locker-b"}));
}

}  // namespace
}  // namespace runtimes
