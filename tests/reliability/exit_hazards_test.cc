// Exits and descriptors the report machinery must leave as they are (programs/exit_hazards.cc),
// each run with and without the shim:
//  - exit() called again from an atexit handler: the process ends with that last status, as
//    glibc makes it, not the leak status (the shim kept the first one);
//  - an exit that waits for something outside the program (a child process, a slow pipe reader)
//    or for an alarm is not an exit that "cannot finish": it finishes (the exit watch killed it
//    after a second with the leak status and a report);
//  - a program that closed its standard streams: a dump's descriptors must not take their
//    numbers (its writes to the closed stdout landed in the writer's memory file).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

using e2e::TempDir;

TEST(ExitHazards, ExitAgainFromAnAtexitHandlerKeepsItsStatus) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, "exit_again"});
  EXPECT_TRUE(run.ExitedWith(5)) << run.Describe();
  EXPECT_EQ(e2e::ReportFiles(dir).size(), 1u) << run.Describe();  // the leak is still reported

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXIT_HAZARDS, "exit_again"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(5)) << bare.Describe();
}

// exit(256) ends with 0 (the low byte): with a leak that is a program that ended well, and the
// leak status is due (the shim passed 256 on, and the parent saw 0).
TEST(ExitHazards, ExitWithAStatusWhoseLowByteIsZeroGetsTheLeakStatus) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, "exit_256"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_EXIT_HAZARDS, "exit_256"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

// The program's LD_LIBRARY_PATH holds a library the writer cannot load (a bundled libstdc++ or
// libdw of another version): the loader's complaint went to the program's stderr. The report
// falls back to the shim's plain one; the program's output is its own.
TEST(ExitHazards, AWriterThatCannotLoadSaysNothingInTheProgramsOutput) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() + "/libs");
  std::ofstream(dir.path() + "/libs/libdw.so.1");  // empty: "file too short"
  const e2e::EnvChanges env{{"LD_LIBRARY_PATH", dir.path() + "/libs"}};
  ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, "exit_again"}, {.env = env});
  EXPECT_TRUE(run.ExitedWith(5)) << run.Describe();
  EXPECT_EQ(run.output.find("threadleak-write-report"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.output, "handler calls exit(5)\n") << run.Describe();

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_EXIT_HAZARDS, "exit_again"},
                                 {.preload = false, .env = env});
  EXPECT_EQ(bare.output, "handler calls exit(5)\n") << bare.Describe();
}

class ExitWaitingOutside : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(ExitWaitingOutside, FinishesAsWithoutTheTool) {
  const auto [scenario, said] = GetParam();
  for (const bool preload : {true, false}) {
    TempDir dir;
    ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, scenario},
                                  {.preload = preload, .timeout = std::chrono::seconds(30)});
    EXPECT_TRUE(run.ExitedWith(0)) << (preload ? "with" : "without") << " the shim\n"
                                   << run.Describe();
    EXPECT_NE(run.output.find(said), std::string::npos) << run.Describe();
    EXPECT_TRUE(e2e::ReportFiles(dir).empty()) << run.Describe();
  }
}

INSTANTIATE_TEST_SUITE_P(Waits, ExitWaitingOutside,
                         ::testing::Values(std::pair{"child_in_exit", "joined"},
                                           std::pair{"slow_reader_in_exit", "joined"},
                                           std::pair{"alarm_in_exit", "posted"}),
                         [](const auto& info) { return std::string(info.param.first); });

// A program that is a subreaper (a supervisor; a container's init is one too) adopts its orphaned
// descendants: the writer, orphaned as soon as it had exec'd, came back to it, and its end was a
// SIGCHLD and a child in wait(-1) the program never made.
TEST(ExitHazards, ASubreapersDumpsLeaveItNoChildAndNoSigchld) {
  for (const bool preload : {true, false}) {
    TempDir dir;
    ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, "subreaper_dump"},
                                  {.preload = preload, .timeout = std::chrono::seconds(30)});
    EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
    EXPECT_EQ(PrintedValue(run.output, "sigchld"), "0") << run.Describe();
    EXPECT_EQ(PrintedValue(run.output, "children"), "none") << run.Describe();
    if (preload) {  // the two dumps
      const std::vector<std::string> files = e2e::ReportFiles(dir);
      ASSERT_EQ(files.size(), 1u) << run.Describe();
      const std::string lines = ReadWholeFile(files[0]);
      EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << run.Describe();
    }
  }
}

// Any open() in the process — a library's, the shim's own reads of /proc — takes a closed low
// descriptor for the microseconds it is open, so a few probes may land there by chance; the
// writer's memory files and socket held them for the whole dump (about 40 writes landed in
// them per dump).
TEST(ExitHazards, DumpsLeaveTheClosedStandardStreamsClosed) {
  constexpr int kByChance = 10;
  for (const bool preload : {true, false}) {
    TempDir dir;
    ScenarioRun run = RunScenario(dir, {RELIABILITY_EXIT_HAZARDS, "closed_stdout"},
                                  {.preload = preload, .timeout = std::chrono::seconds(30)});
    EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
    const std::string writes = PrintedValue(run.output, "closed_stdout_writes");
    const std::string reads = PrintedValue(run.output, "closed_stdin_reads");
    ASSERT_FALSE(writes.empty() || reads.empty()) << run.Describe();
    EXPECT_LE(std::stoi(writes), preload ? kByChance : 0) << run.Describe();
    EXPECT_LE(std::stoi(reads), preload ? kByChance : 0) << run.Describe();
    if (preload) {  // the three dumps, one JSON line each
      const std::vector<std::string> files = e2e::ReportFiles(dir);
      ASSERT_EQ(files.size(), 1u) << run.Describe();
      const std::string lines = ReadWholeFile(files[0]);
      EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3) << run.Describe();
    }
  }
}

}  // namespace
}  // namespace reliability
