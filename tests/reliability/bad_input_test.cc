// Item 5 of issue 8: bad input. Every option with malformed, empty, huge and out-of-range values
// (the real shim, end to end; the parser's own table is in tests/unit/options_test.cc); a huge
// THREADLEAK_OPTIONS; log_path in a missing, unwritable or impossible directory; the wrapper
// facing a static or set-user-ID program; the shim preloaded twice. None may crash, and the
// program always runs.
// include= and suppressions= naming a FIFO, a directory, a device or a file of junk (issue 13).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

namespace fs = std::filesystem;
using e2e::Field;
using e2e::TempDir;

constexpr int kCannotWatchStatus = 126;  // the wrapper's status for a program it cannot watch

std::vector<std::string> Warnings(const std::string& output) {
  return LinesStartingWith(output, "threadleak: warning:");
}

struct BadValues {
  const char* option;
  std::vector<std::string> values;
};

std::string Huge(size_t size) {
  return std::string(size, 'x');
}

std::vector<BadValues> AllBadValues() {
  const std::vector<std::string> for_bool = {"", "2", "-1", "yes", "TRUE", Huge(4000)};
  const std::string too_long = "99999999999999999999999999";
  return {
      {"format", {"", "xml", "JSON", "texts", Huge(4000)}},
      {"log_path", {"", Huge(1024), Huge(4000)}},
      {"exitcode", {"", "-1", "256", "1e2", "0x10", "+6", too_long}},
      {"linger_ms", {"", "-5", "600001", "10ms", too_long}},
      {"symbolize", for_bool},
      {"demangle", for_bool},
      {"debuginfod", for_bool},
      {"strip_path_prefix", {"", Huge(1024)}},
      {"dump_signal", {"", Huge(1024)}},  // the name itself: DumpSignal below
      {"watchdog_ms", {"", "-1", "86400001", too_long}},
      {"timeout_ms", {"", "-1", "1.5", too_long}},
  };
}

class OptionValues : public ::testing::TestWithParam<BadValues> {};

// Each bad value is ignored with a warning; the leak is still reported, in JSON, to the file
// set before the bad values, with the default exit status.
TEST_P(OptionValues, BadValuesWarnAndChangeNothing) {
  const BadValues& bad = GetParam();
  std::string appended;
  for (const std::string& value : bad.values) {
    appended += (appended.empty() ? "" : ":") + std::string(bad.option) + "=" + value;
  }
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"}, {.options = appended});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_NE(run.output.find("child says hello"), std::string::npos) << run.Describe();
  EXPECT_EQ(Warnings(run.output).size(), bad.values.size()) << run.Describe();
  for (const std::string& warning : Warnings(run.output)) {
    EXPECT_LE(warning.size(), 1024u) << "a warning line must stay bounded";
  }
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.Describe();
  EXPECT_EQ(Field(*report, "leaks"), 1);
}

void PrintTo(const BadValues& bad, std::ostream* out) {
  *out << bad.option;
}

INSTANTIATE_TEST_SUITE_P(EveryOption, OptionValues, ::testing::ValuesIn(AllBadValues()),
                         [](const auto& info) { return std::string(info.param.option); });

// dump_signal is checked when the shim starts its dump handling; a bad one turns dumps off with
// one warning, however many threads the program then creates.
class DumpSignal : public ::testing::TestWithParam<const char*> {};

TEST_P(DumpSignal, BadSignalWarnsOnceAndTheProgramRuns) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_ODD_THREADS, "destructors_clean"},
                                {.options = std::string("dump_signal=") + GetParam()});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  std::vector<std::string> warnings = Warnings(run.output);
  ASSERT_EQ(warnings.size(), 1u) << warnings.size() << " warnings; the first:\n"
                                 << (warnings.empty() ? "" : warnings[0]);
  EXPECT_NE(warnings[0].find(GetParam()), std::string::npos) << warnings[0];
}

INSTANTIATE_TEST_SUITE_P(Names, DumpSignal,
                         ::testing::Values("SIGFOO", "SIGKILL", "SIGSEGV", "999", "RTMIN+999",
                                           "SIGRTMAX-3", "-1"),
                         [](const auto& info) { return "value" + std::to_string(info.index); });

TEST(Options, HugeOptionStringIsBoundedWorkAndBoundedNoise) {
  // Close to the kernel's limit for one environment string (128 KiB): 25,000 bad entries.
  std::string junk;
  for (int i = 0; junk.size() < 120'000; ++i) junk += "junk" + std::to_string(i) + ":";
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"}, {.options = junk});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.result.Describe();
  EXPECT_LT(run.seconds, 5.0);
  std::string error;
  EXPECT_TRUE(ReportOf(dir, run.result.pid, &error).has_value()) << error;
  // The program's stderr is the program's: the tool may say that its options are bad, not
  // flood it with one line per bad entry.
  EXPECT_LE(Warnings(run.output).size(), 20u)
      << Warnings(run.output).size() << " warning lines for one environment variable";
}

TEST(Options, OptionsFromTheEnvironmentAndEmptyEntriesAreHarmless) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"},
                                {.options = "::: ,,\t:=:==:=x:exitcode==3:exitcode=3=3"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  std::string error;
  EXPECT_TRUE(ReportOf(dir, run.result.pid, &error).has_value()) << error;
}

// --- log_path that cannot be created ---------------------------------------------------------

// The report falls back to stderr, after one warning naming the path; nothing is lost.
void ExpectReportOnStderr(const ScenarioRun& run, const std::string& path_fragment) {
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  std::vector<std::string> warnings = Warnings(run.output);
  ASSERT_EQ(warnings.size(), 1u) << run.Describe();
  EXPECT_NE(warnings[0].find(path_fragment), std::string::npos) << warnings[0];
  std::vector<json> reports = ReportLinesIn(run.output);
  ASSERT_EQ(reports.size(), 1u) << run.Describe();
  EXPECT_EQ(Field(reports[0], "leaks"), 1);
  EXPECT_TRUE(e2e::StackHasFunction(reports[0]["threads"][0]["stack"], "child_blocked_forever"))
      << e2e::Summarize(reports[0]);
}

RunOptions LogPathOptions(const std::string& log_path) {
  return {.json_to_files = false, .options = "format=json:log_path=" + log_path};
}

TEST(LogPath, MissingDirectoryFallsBackToStderr) {
  TempDir dir;
  const std::string base = dir.path() + "/no/such/dir/report";
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"}, LogPathOptions(base));
  ExpectReportOnStderr(run, "/no/such/dir/report");
}

TEST(LogPath, PathThroughARegularFileFallsBackToStderr) {
  TempDir dir;
  { std::ofstream(dir.path() + "/file") << "x"; }
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"},
                                LogPathOptions(dir.path() + "/file/report"));
  ExpectReportOnStderr(run, "/file/report");
}

TEST(LogPath, UnwritableDirectoryFallsBackToStderr) {
  TempDir dir;
  const std::string locked = dir.path() + "/locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  RunOptions options = LogPathOptions(locked + "/report");
  if (geteuid() == 0) {
    // Root writes anywhere: run the program as nobody, for whom `locked` is unwritable.
    if (!NobodyCanExecute(RELIABILITY_LEAKY_CHILD)) GTEST_SKIP() << "cannot run as nobody here";
    fs::permissions(dir.path(), fs::perms::all, fs::perm_options::add);
    options.as_nobody = true;
  }
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"}, options);
  ExpectReportOnStderr(run, "/locked/report");
}

// A report for every one of many API checks, each failing to create its log file: the warnings
// are capped like option warnings (ten, then one line for the rest); the reports all reach stderr.
TEST(LogPath, WarningsOfManyReportsAreCapped) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_DESCRIPTORS, "checks", "30"},
                                LogPathOptions(dir.path() + "/no/such/dir/report"));
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(PrintedValue(run.output, "reported"), "30") << run.Describe();
  EXPECT_EQ(ReportLinesIn(run.output).size(), 31u) << run.Describe();
  EXPECT_LE(Warnings(run.output).size(), 11u) << run.Describe();
}

// --- include= and suppressions= files that are not regular files, or full of junk ------------

// Every byte the tool wrote to the program's stderr is printable (or a newline).
void ExpectPrintable(const std::string& output) {
  for (size_t i = 0; i < output.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(output[i]);
    if (c == '\n' || (c >= 0x20 && c < 0x7f)) continue;
    ADD_FAILURE() << "byte 0x" << std::hex << int{c} << " at offset " << std::dec << i;
    return;
  }
}

std::vector<std::string> ToolLines(const std::string& output) {
  return LinesStartingWith(output, "threadleak:");
}

struct SpecialFile {
  const char* option;  // include or suppressions
  const char* kind;    // fifo, directory or device
};

void PrintTo(const SpecialFile& special, std::ostream* out) {
  *out << special.option << "=" << special.kind;
}

class NotARegularFile : public ::testing::TestWithParam<SpecialFile> {};

// A FIFO would block the open (every process that inherits the environment, at start-up); a
// directory or a device is no file of options or rules either. One line each, and the program
// runs as without the option.
TEST_P(NotARegularFile, GivesOneLineAndNeverBlocks) {
  const SpecialFile& special = GetParam();
  TempDir dir;
  std::string path = dir.path() + "/special";
  if (std::string(special.kind) == "fifo") {
    ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  } else if (std::string(special.kind) == "directory") {
    fs::create_directory(path);
  } else {
    path = "/dev/null";
  }
  ScenarioRun run = RunScenario(
      dir, {RELIABILITY_LEAKY_CHILD, "leak"},
      {.options = std::string(special.option) + "=" + path, .timeout = std::chrono::seconds(10)});
  ASSERT_FALSE(run.result.timed_out) << "the open blocked\n" << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  std::vector<std::string> lines = ToolLines(run.output);
  ASSERT_EQ(lines.size(), 1u) << run.Describe();
  EXPECT_NE(lines[0].find(path), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("not a regular file"), std::string::npos) << lines[0];
  std::string error;
  EXPECT_TRUE(ReportOf(dir, run.result.pid, &error).has_value()) << error;
}

INSTANTIATE_TEST_SUITE_P(
    SpecialFiles, NotARegularFile,
    ::testing::Values(SpecialFile{"include", "fifo"}, SpecialFile{"include", "directory"},
                      SpecialFile{"include", "device"}, SpecialFile{"suppressions", "fifo"},
                      SpecialFile{"suppressions", "directory"},
                      SpecialFile{"suppressions", "device"}),
    [](const auto& info) {
      return std::string(info.param.option) + "_" + std::string(info.param.kind);
    });

std::string RandomBytes(size_t size) {
  std::string bytes(size, '\0');
  uint32_t state = 12345;
  for (char& c : bytes) {
    state = state * 1103515245u + 12345u;
    c = static_cast<char>(state >> 16);
  }
  return bytes;
}

// Runs leaky_child with `option`=a file holding `contents`; at most eleven lines (ten, then the
// count), every byte printable, and the leak reported as usual.
void ExpectCappedAndPrintable(const char* option, const std::string& contents) {
  TempDir dir;
  const std::string path = dir.path() + "/junk";
  { std::ofstream(path, std::ios::binary) << contents; }
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"},
                                {.options = std::string(option) + "=" + path});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.result.Describe();
  std::vector<std::string> lines = ToolLines(run.output);
  EXPECT_GE(lines.size(), 1u) << run.Describe();
  EXPECT_LE(lines.size(), 11u) << lines.size() << " lines";
  EXPECT_LE(run.output.size(), 11u * 1100 + 100) << "bytes on stderr";
  ExpectPrintable(run.output);
  std::string error;
  EXPECT_TRUE(ReportOf(dir, run.result.pid, &error).has_value()) << error;
}

TEST(SuppressionFiles, OneMegabyteOfBinaryPrintsAtMostElevenPrintableLines) {
  ExpectCappedAndPrintable("suppressions", RandomBytes(1'000'000));
}

TEST(SuppressionFiles, TwentyThousandBadLinesPrintAtMostEleven) {
  std::string lines;
  for (int i = 0; i < 20'000; ++i) lines += "nonsense line " + std::to_string(i) + "\n";
  ExpectCappedAndPrintable("suppressions", lines);
}

TEST(IncludeFiles, BinaryIncludePrintsAtMostElevenPrintableLines) {
  ExpectCappedAndPrintable("include", RandomBytes(60'000));
}

// --- the wrapper and programs the shim cannot enter ------------------------------------------

std::string CopyWithMode(const TempDir& dir, const std::string& from, const char* name,
                         fs::perms mode) {
  const std::string to = dir.path() + "/" + name;
  fs::copy_file(from, to);
  fs::permissions(to, mode);
  return to;
}

TEST(Wrapper, RefusesAStaticProgramWithOneClearLine) {
  if (std::string(RELIABILITY_STATIC_CHILD).empty()) GTEST_SKIP() << "no static libc here";
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_WRAPPER, "--", RELIABILITY_STATIC_CHILD, "leak"},
                                {.preload = false});
  EXPECT_TRUE(run.ExitedWith(kCannotWatchStatus)) << run.Describe();
  EXPECT_NE(run.output.find("threadleak: error: "), std::string::npos) << run.Describe();
  EXPECT_NE(run.output.find("is statically linked"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.output.find("child says"), std::string::npos) << "it must not run unwatched";
}

TEST(Wrapper, RefusesASetUserIdProgramItCannotEnter) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all, fs::perm_options::add);
  std::string program =
      CopyWithMode(dir, RELIABILITY_LEAKY_CHILD, "setuid_child",
                   fs::perms::set_uid | fs::perms::owner_all | fs::perms::group_read |
                       fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  // Owned by someone else than the caller: running it is a secure execution, the loader would
  // drop the shim.
  const uid_t other = getuid() == 65534 ? 0 : 65534;
  if (chown(program.c_str(), other, static_cast<gid_t>(-1)) != 0) GTEST_SKIP() << "cannot chown";
  fs::permissions(program, fs::perms::set_uid, fs::perm_options::add);  // chown cleared it
  ScenarioRun run = RunScenario(dir, {RELIABILITY_WRAPPER, program, "leak"}, {.preload = false});
  EXPECT_TRUE(run.ExitedWith(kCannotWatchStatus)) << run.Describe();
  EXPECT_NE(run.output.find("threadleak: error: "), std::string::npos) << run.Describe();
  EXPECT_NE(run.output.find("set-user-ID"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.output.find("child says"), std::string::npos) << "it must not run unwatched";
}

TEST(Wrapper, RefusesASetGroupIdProgramOfAnotherGroup) {
  TempDir dir;
  std::string program =
      CopyWithMode(dir, RELIABILITY_LEAKY_CHILD, "setgid_child",
                   fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                       fs::perms::others_read | fs::perms::others_exec);
  const gid_t other = getgid() == 65534 ? 0 : 65534;
  if (chown(program.c_str(), static_cast<uid_t>(-1), other) != 0) GTEST_SKIP() << "cannot chgrp";
  fs::permissions(program, fs::perms::set_gid, fs::perm_options::add);
  ScenarioRun run = RunScenario(dir, {RELIABILITY_WRAPPER, program, "leak"}, {.preload = false});
  EXPECT_TRUE(run.ExitedWith(kCannotWatchStatus)) << run.Describe();
  EXPECT_NE(run.output.find("set-group-ID"), std::string::npos) << run.Describe();
}

TEST(Wrapper, StillRunsDynamicProgramsAndScripts) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir,
                                {RELIABILITY_WRAPPER, "--json", "--log-path",
                                 dir.path() + "/report", RELIABILITY_LEAKY_CHILD, "leak"},
                                {.preload = false, .json_to_files = false});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  const std::string script = dir.path() + "/script.sh";
  { std::ofstream(script) << "#!/bin/sh\nexit 3\n"; }
  fs::permissions(script, fs::perms::owner_all);
  ScenarioRun script_run = RunScenario(dir, {RELIABILITY_WRAPPER, script}, {.preload = false});
  EXPECT_TRUE(script_run.ExitedWith(3)) << script_run.Describe();
  // Without a #! line the shell runs it, as when the wrapper is not there.
  const std::string bare = dir.path() + "/bare.sh";
  { std::ofstream(bare) << "echo \"bare $1\"\nexit 4\n"; }
  fs::permissions(bare, fs::perms::owner_all);
  ScenarioRun bare_run = RunScenario(dir, {RELIABILITY_WRAPPER, bare, "ran"}, {.preload = false});
  EXPECT_TRUE(bare_run.ExitedWith(4)) << bare_run.Describe();
  EXPECT_NE(bare_run.output.find("bare ran"), std::string::npos) << bare_run.Describe();
}

TEST(Wrapper, HelpDocumentsTheExitStatuses) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_WRAPPER, "--help"}, {.preload = false});
  EXPECT_TRUE(run.ExitedWith(0)) << run.Describe();
  EXPECT_NE(run.output.find("126"), std::string::npos) << run.Describe();
  EXPECT_NE(run.output.find("statically linked"), std::string::npos) << run.Describe();
}

// --- preloaded twice -------------------------------------------------------------------------

// A second copy of the shim and its report writer, in a directory of their own.
std::string SecondCopy(const TempDir& dir) {
  const std::string copy_dir = dir.path() + "/copy";
  fs::create_directory(copy_dir);
  fs::copy_file(THREADLEAK_SHIM_PATH, copy_dir + "/libthreadleak.so");
  fs::copy_file(RELIABILITY_REPORT_WRITER,
                copy_dir + "/" + fs::path(RELIABILITY_REPORT_WRITER).filename().string());
  return copy_dir + "/libthreadleak.so";
}

class PreloadedTwice : public ::testing::TestWithParam<const char*> {};

TEST_P(PreloadedTwice, OneReportAndNoFramesOfEitherCopy) {
  TempDir dir;
  const std::string how = GetParam();
  const std::string shim = THREADLEAK_SHIM_PATH;
  std::string preload = how == "colon"   ? shim + ":" + shim
                        : how == "space" ? shim + " " + shim
                                         : shim + ":" + SecondCopy(dir);
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LEAKY_CHILD, "leak"}, {.preload_value = preload});
  ASSERT_FALSE(run.result.timed_out) << run.Describe();
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  ASSERT_EQ(e2e::ReportFiles(dir).size(), 1u) << run.Describe();
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);
  ASSERT_TRUE(report.has_value()) << error;
  ASSERT_EQ(Field(*report, "leaks"), 1) << e2e::Summarize(*report);
  const json& thread = (*report)["threads"][0];
  // The working copy's own frames never show. (A second copy's pass-through hook may still
  // show in the stack where a thread waits: it sits between the first copy and libc.)
  EXPECT_FALSE(StackHasModule(thread["stack"], fs::canonical(THREADLEAK_SHIM_PATH).string()))
      << e2e::Summarize(*report);
  EXPECT_FALSE(StackHasModule(thread["created_by"]["stack"], "libthreadleak"))
      << e2e::Summarize(*report);

  TempDir clean_dir;
  ScenarioRun clean =
      RunScenario(clean_dir, {RELIABILITY_ODD_THREADS, "destructors_clean"},
                  {.preload_value = how == "copy" ? shim + ":" + SecondCopy(clean_dir) : preload});
  EXPECT_TRUE(clean.ExitedWith(0)) << clean.Describe();
  EXPECT_TRUE(e2e::ReportFiles(clean_dir).empty()) << clean.Describe();
}

INSTANTIATE_TEST_SUITE_P(Ways, PreloadedTwice, ::testing::Values("colon", "space", "copy"));

}  // namespace
}  // namespace reliability
