// Issue 15, dump before death (programs/fatal.c): with dump_on_fatal=1, a hung program killed by
// SIGTERM, and a crashing one, leave a dump of every thread — the one that took the signal marked,
// with its stack where the signal found it — and die of the same signal, with the same core dump,
// as without the tool. A program's own handler is left alone.
#include <gtest/gtest.h>

#include <signal.h>

#include <string>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::TempDir;

const json* ThreadNamed(const json& dump, const std::string& name) {
  for (const json& thread : dump["threads"]) {
    if (thread.value("name", "") == name) return &thread;
  }
  return nullptr;
}

const json* DyingThread(const json& dump) {
  for (const json& thread : dump["threads"]) {
    if (thread.value("dying", false)) return &thread;
  }
  return nullptr;
}

TEST(FatalSignals, SigtermedHungProgramDumpsThenDiesOfSigterm) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_FATAL, "term"}, {.options = "dump_on_fatal=1"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(run.result.signal, SIGTERM) << run.Describe();
  json dump = OnlyReport(dir, run);
  EXPECT_EQ(dump.value("trigger", ""), "fatal_signal") << e2e::Summarize(dump);
  EXPECT_EQ(dump.value("signal", ""), "SIGTERM") << e2e::Summarize(dump);
  const json* dying = DyingThread(dump);
  ASSERT_NE(dying, nullptr) << e2e::Summarize(dump);
  EXPECT_EQ((*dying)["tid"], run.result.pid) << e2e::Summarize(dump);
  EXPECT_TRUE(e2e::StackHasFunction((*dying)["stack"], "fatal_hung_main")) << e2e::Summarize(dump);
  const json* blocked = ThreadNamed(dump, "blocked");
  ASSERT_NE(blocked, nullptr) << e2e::Summarize(dump);
  EXPECT_TRUE(e2e::StackHasFunction((*blocked)["stack"], "fatal_blocked_forever"))
      << e2e::Summarize(dump);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_FATAL, "term"}, {.preload = false});
  EXPECT_EQ(bare.result.signal, SIGTERM) << bare.Describe();
}

// The handler runs on the program's alternate signal stack, here 4 KiB: the dump runs on a stack
// of threadleak's own, and the process still dies of SIGTERM (it died of SIGSEGV on the guard
// page below that stack, status 139 for 143).
TEST(FatalSignals, ASmallAlternateSignalStackStillDumpsAndDiesOfTheSignal) {
  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_FATAL, "term_altstack"}, {.preload = false});
  EXPECT_EQ(bare.result.signal, SIGTERM) << bare.Describe();
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_FATAL, "term_altstack"}, {.options = "dump_on_fatal=1"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(run.result.signal, SIGTERM) << run.Describe();
  json dump = OnlyReport(dir, run);
  const json* dying = DyingThread(dump);
  ASSERT_NE(dying, nullptr) << e2e::Summarize(dump);
  EXPECT_TRUE(e2e::StackHasFunction((*dying)["stack"], "fatal_hung_main")) << e2e::Summarize(dump);
  const json* blocked = ThreadNamed(dump, "blocked");
  ASSERT_NE(blocked, nullptr) << e2e::Summarize(dump);
  EXPECT_TRUE(e2e::StackHasFunction((*blocked)["stack"], "fatal_blocked_forever"))
      << e2e::Summarize(dump);
}

// While the dump runs on threadleak's stack, the program's other signals keep coming to the dying
// thread, whose handlers use the same alternate stack as threadleak's: held until the dump is
// done, they never land on the fatal handler's frame (they did: SIGSEGV, 5 runs of 5).
TEST(FatalSignals, SignalsArrivingDuringTheDumpWaitAndTheProcessDiesOfItsSignal) {
  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_FATAL, "term_signalled"}, {.preload = false});
  EXPECT_EQ(bare.result.signal, SIGTERM) << bare.Describe();
  for (int attempt = 0; attempt < 3; ++attempt) {
    TempDir dir;
    ScenarioRun run =
        RunScenario(dir, {RELIABILITY_FATAL, "term_signalled"}, {.options = "dump_on_fatal=1"});
    ASSERT_FALSE(run.result.timed_out) << run.Describe();
    EXPECT_EQ(run.result.signal, SIGTERM) << "attempt " << attempt << "\n" << run.Describe();
    json dump = OnlyReport(dir, run);
    EXPECT_NE(DyingThread(dump), nullptr) << e2e::Summarize(dump);
    if (HasFailure()) return;
  }
}

TEST(FatalSignals, CrashDumpsWithTheFaultingStackThenDiesOfSigsegv) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_FATAL, "segv"}, {.options = "dump_on_fatal=1"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(run.result.signal, SIGSEGV) << run.Describe();
  EXPECT_FALSE(run.result.core_dumped) << run.Describe();  // RLIMIT_CORE 0, as without the tool
  json dump = OnlyReport(dir, run);
  EXPECT_EQ(dump.value("signal", ""), "SIGSEGV") << e2e::Summarize(dump);
  const json* dying = DyingThread(dump);
  ASSERT_NE(dying, nullptr) << e2e::Summarize(dump);
  EXPECT_EQ(dying->value("name", ""), "crasher") << e2e::Summarize(dump);
  // The first frame is the faulting instruction itself.
  ASSERT_FALSE((*dying)["stack"].empty()) << e2e::Summarize(dump);
  EXPECT_EQ((*dying)["stack"][0].value("function", ""), "fatal_crasher") << e2e::Summarize(dump);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_FATAL, "segv"}, {.preload = false});
  EXPECT_EQ(bare.result.signal, SIGSEGV) << bare.Describe();
}

TEST(FatalSignals, CrashStillDumpsCoreWhereTheSystemWould) {
  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_FATAL, "segv_core", bare_dir.path()}, {.preload = false});
  EXPECT_EQ(bare.result.signal, SIGSEGV) << bare.Describe();
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_FATAL, "segv_core", dir.path()},
                                {.options = "dump_on_fatal=1"});
  EXPECT_EQ(run.result.signal, SIGSEGV) << run.Describe();
  EXPECT_EQ(run.result.core_dumped, bare.result.core_dumped) << run.Describe();
}

TEST(FatalSignals, ProgramsOwnHandlerIsLeftAlone) {
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_FATAL, "own_handler"}, {.options = "dump_on_fatal=1"});
  EXPECT_TRUE(run.ExitedWith(3)) << run.Describe();
  EXPECT_NE(run.output.find("own handler"), std::string::npos) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

TEST(FatalSignals, OffByDefault) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_FATAL, "term"});
  EXPECT_EQ(run.result.signal, SIGTERM) << run.Describe();
  EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
}

}  // namespace
}  // namespace reliability
