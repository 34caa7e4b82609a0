// Issue 13, report descriptors (programs/descriptors.c): a report is written through a
// descriptor opened for it and closed after it, never one the program may have reused; a write
// error on the log file falls back to stderr with one warning; when stderr is closed or now
// names another file, the report goes to $TMPDIR/threadleak.PID.report. Each program also runs
// without the shim, for the status it has there.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

namespace fs = std::filesystem;
using e2e::Field;
using e2e::TempDir;

// Where a report goes when it can go nowhere else: TMPDIR (the test directory here).
std::string FallbackPath(const TempDir& dir, const ScenarioRun& run) {
  return dir.path() + "/threadleak." + std::to_string(run.result.pid) + ".report";
}

RunOptions FallbackOptions(const TempDir& dir) {
  return {.json_to_files = false, .options = "format=json", .env = {{"TMPDIR", dir.path()}}};
}

// The exit report of the program's one leaked thread, alone in `path`, mode 0600.
void ExpectExitReportIn(const std::string& path, const ScenarioRun& run) {
  std::string error;
  auto report = e2e::ReadReport(path, &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.Describe();
  EXPECT_EQ(Field(*report, "trigger"), "exit");
  ASSERT_EQ(Field(*report, "leaks"), 1) << e2e::Summarize(*report);
  EXPECT_TRUE(e2e::StackHasFunction((*report)["threads"][0]["stack"], "descriptors_blocked"))
      << e2e::Summarize(*report);
  struct stat info = {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST(ReportDescriptors, ReusedDescriptorNumbersNeverGetAReportIntoTheProgramsFiles) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_DESCRIPTORS, "reuse_fds", dir.path()});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "first_report_leaks"), "1") << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ReadWholeFile(dir.path() + "/data" + std::to_string(i)),
              "data " + std::to_string(i) + "\n")
        << "data" << i << " holds more than the program wrote";
  }
  // Both reports are in the log file: the API check's and the exit check's.
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, run.result.pid), &error);
  ASSERT_EQ(reports.size(), 2u) << error << "\n" << run.Describe();
  EXPECT_EQ(Field(reports[0], "trigger"), "api");
  EXPECT_EQ(Field(reports[1], "trigger"), "exit");

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, {RELIABILITY_DESCRIPTORS, "reuse_fds", bare_dir.path()},
                                 {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(ReadWholeFile(bare_dir.path() + "/data0"), "data 0\n");
}

TEST(ReportDescriptors, ClosedStderrSendsTheReportToTheFileTheReadmeNames) {
  // xz -T4 ends with fclose(stderr).
  TempDir dir;
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_DESCRIPTORS, "close_stderr"}, FallbackOptions(dir));
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  ExpectExitReportIn(FallbackPath(dir, run), run);

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_DESCRIPTORS, "close_stderr"}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

TEST(ReportDescriptors, StderrReopenedOntoAFileOfTheProgramsIsLeftAlone) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_DESCRIPTORS, "stderr_onto_file", dir.path()},
                                FallbackOptions(dir));
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(ReadWholeFile(dir.path() + "/data"), "own data\n");
  ExpectExitReportIn(FallbackPath(dir, run), run);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(
      bare_dir, {RELIABILITY_DESCRIPTORS, "stderr_onto_file", bare_dir.path()}, {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
  EXPECT_EQ(ReadWholeFile(bare_dir.path() + "/data"), "own data\n");
}

TEST(ReportDescriptors, ClosedStderrWithALogPathWritesTheLogFile) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_DESCRIPTORS, "close_stderr"},
                                {.env = {{"TMPDIR", dir.path()}}});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  ExpectExitReportIn(e2e::ReportPath(dir, run.result.pid), run);
  EXPECT_FALSE(fs::exists(FallbackPath(dir, run)));
}

TEST(ReportDescriptors, WriteErrorOnTheLogFileFallsBackToStderrWithOneWarning) {
  // The log file cannot grow (RLIMIT_FSIZE at its size after a first report): every write to it
  // fails, as on a full disk.
  TempDir dir;
  const std::string base = dir.path() + "/report";
  ScenarioRun run =
      RunScenario(dir, {RELIABILITY_DESCRIPTORS, "full_log", base},
                  {.json_to_files = false, .options = "format=json:log_path=" + base});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "first_report_leaks"), "41") << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  std::vector<std::string> warnings = LinesStartingWith(run.output, "threadleak: warning:");
  ASSERT_EQ(warnings.size(), 1u) << run.Describe();
  EXPECT_NE(warnings[0].find("cannot write the report to '" + base), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("stderr"), std::string::npos) << warnings[0];
  std::vector<json> on_stderr = ReportLinesIn(run.output);
  ASSERT_EQ(on_stderr.size(), 1u) << run.Describe();
  EXPECT_EQ(Field(on_stderr[0], "trigger"), "exit");
  EXPECT_EQ(Field(on_stderr[0], "leaks"), 1);
  // The log file keeps the first report whole, and nothing of the one that did not fit.
  std::string error;
  std::vector<json> in_log = e2e::ReadReports(e2e::ReportPath(dir, run.result.pid), &error);
  ASSERT_EQ(in_log.size(), 1u) << error;
  EXPECT_EQ(Field(in_log[0], "trigger"), "api");

  TempDir bare_dir;
  ScenarioRun bare =
      RunScenario(bare_dir, {RELIABILITY_DESCRIPTORS, "full_log", bare_dir.path() + "/report"},
                  {.preload = false});
  EXPECT_TRUE(bare.ExitedWith(0)) << bare.Describe();
}

TEST(ReportDescriptors, ReportToAPipeNobodyReadsFallsBackToStderrInsteadOfKillingTheProgram) {
  // log_path=stdout, and stdout a pipe whose reader has ended: the write fails with EPIPE, and
  // SIGPIPE, whose default action ends the process, is the tool's, not the program's.
  TempDir dir;
  const std::vector<std::string> argv = {
      "/bin/sh", "-c", "exec 3>&1; { \"$0\" quiet_leak; echo \"status=$?\" >&3; } | true",
      RELIABILITY_DESCRIPTORS};
  ScenarioRun run =
      RunScenario(dir, argv, {.json_to_files = false, .options = "format=json:log_path=stdout"});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "status"), "66") << run.Describe();
  std::vector<std::string> warnings = LinesStartingWith(run.output, "threadleak: warning:");
  ASSERT_EQ(warnings.size(), 1u) << run.Describe();
  EXPECT_NE(warnings[0].find("cannot write the report to stdout"), std::string::npos)
      << warnings[0];
  std::vector<json> on_stderr = ReportLinesIn(run.output);
  ASSERT_EQ(on_stderr.size(), 1u) << run.Describe();
  EXPECT_EQ(Field(on_stderr[0], "leaks"), 1);

  TempDir bare_dir;
  ScenarioRun bare = RunScenario(bare_dir, argv, {.preload = false});
  EXPECT_EQ(PrintedValue(bare.output, "status"), "0") << bare.Describe();
}

}  // namespace
}  // namespace reliability
