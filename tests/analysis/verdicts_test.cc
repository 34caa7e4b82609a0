// End-to-end: verdicts that must not lie (issue 14). Each case of programs/verdict_cases.c runs
// without the shim and under it: the program's own output is the same, it exits 0 without the
// tool and 66 (its threads leak) under it, and the exit report judges each thread as below.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/support.h"

namespace {

using e2e::RunResult;
using e2e::StringField;
using e2e::TempDir;
using nlohmann::json;

constexpr int kLeakExitCode = 66;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The program's own lines, less those that print addresses and tids (which differ per run).
std::string StableLines(const std::string& output) {
  std::istringstream lines(output);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("object ", 0) == 0 || line.rfind("tid ", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

// "object NAME 0x..." and "tid NAME N" lines the program printed.
std::map<std::string, std::string> Printed(const std::string& output) {
  std::map<std::string, std::string> values;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string kind, name, value;
    if (words >> kind >> name >> value && (kind == "object" || kind == "tid")) {
      values[name] = value;
    }
  }
  return values;
}

struct CaseRun {
  RunResult result;
  std::string report;  // the report file's text
  json json_report;    // when format=json
};

// Runs `name` without the shim, then under it with `options` (format and log_path added), and
// checks what every case must hold: the same output, status 0 without the tool and 66 with it.
CaseRun RunCase(const std::string& name, const std::string& format, const TempDir& dir,
                const std::string& options = "") {
  const RunResult plain = e2e::RunProgram({VERDICT_CASES, name}, {{"LD_PRELOAD", std::nullopt}},
                                          dir.path() + "/plain.txt");
  EXPECT_TRUE(plain.exited && plain.exit_status == 0) << plain.Describe() << "\n" << plain.output;
  const e2e::EnvChanges env = {
      {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
      {"THREADLEAK_OPTIONS", "format=" + format + ":log_path=" + dir.path() + "/report" +
                                 (options.empty() ? "" : ":" + options)}};
  CaseRun run;
  run.result = e2e::RunProgram({VERDICT_CASES, name}, env, dir.path() + "/output.txt");
  EXPECT_TRUE(run.result.exited && run.result.exit_status == kLeakExitCode)
      << run.result.Describe() << "\n"
      << run.result.output;
  EXPECT_EQ(StableLines(run.result.output), StableLines(plain.output));
  run.report = ReadFile(e2e::ReportPath(dir, run.result.pid));
  if (format == "json") {
    std::string error;
    auto parsed = e2e::ReadReport(e2e::ReportPath(dir, run.result.pid), &error);
    EXPECT_TRUE(parsed.has_value()) << error << "\n" << run.result.output;
    if (parsed) run.json_report = *parsed;
  }
  return run;
}

const json* ThreadNamed(const json& report, const std::string& name) {
  const json& threads = e2e::Field(report, "threads");
  if (!threads.is_array()) return nullptr;
  for (const json& thread : threads) {
    if (StringField(thread, "name") == name) return &thread;
  }
  return nullptr;
}

// --- 1. Objects shared with another process ---------------------------------------------------

void ExpectSharedVerdicts(const CaseRun& run) {
  const auto printed = Printed(run.result.output);
  const std::map<std::string, std::string> waiters = {{"shm-mutex", "mutex"},
                                                      {"shm-sem", "sem"},
                                                      {"shm-cond", "cond"},
                                                      {"memfd-sem", "sem"},
                                                      {"attr-cond", "cond"}};
  for (const auto& [name, state] : waiters) {
    const json* thread = ThreadNamed(run.json_report, name);
    ASSERT_NE(thread, nullptr) << name << " not reported:\n" << e2e::Summarize(run.json_report);
    EXPECT_EQ(StringField(*thread, "state"), state) << name;
    EXPECT_EQ(StringField(*thread, "certainty"), "possible")
        << name << ": " << StringField(*thread, "reason");
    EXPECT_EQ(StringField(*thread, "basis"), "shared") << name;
    const std::string reason = StringField(*thread, "reason");
    EXPECT_NE(reason.find("a thread of another process may still"), std::string::npos) << reason;
    if (name == "attr-cond") {
      EXPECT_NE(reason.find("is process-shared (PTHREAD_PROCESS_SHARED)"), std::string::npos)
          << reason;
    } else {
      EXPECT_NE(reason.find("lies in memory shared with other processes"), std::string::npos)
          << reason;
    }
    EXPECT_EQ(reason.find("definitely"), std::string::npos) << reason;
  }
  const json* mutex_waiter = ThreadNamed(run.json_report, "shm-mutex");
  ASSERT_NE(mutex_waiter, nullptr);
  EXPECT_EQ(StringField(*mutex_waiter, "object"), printed.at("mutex"));
  const std::string reason = StringField(*mutex_waiter, "reason");
  EXPECT_NE(reason.find("which is not a thread of this process"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("has exited"), std::string::npos) << reason;
}

TEST(Verdicts, AMutexAChildProcessHoldsAndSharedObjectsAreNeverDefinite) {
  TempDir dir;
  const CaseRun run = RunCase("pshared", "json", dir);
  ExpectSharedVerdicts(run);
}

TEST(Verdicts, SharedObjectsAreNeverDefiniteWithoutTheReachabilityScan) {
  TempDir dir;
  const CaseRun run = RunCase("pshared", "json", dir, "leak_scan_max_mb=0");
  ExpectSharedVerdicts(run);
}

TEST(Verdicts, TheTextReportSaysTheHolderIsNotAThreadOfThisProcess) {
  TempDir dir;
  const CaseRun run = RunCase("pshared", "text", dir);
  const auto printed = Printed(run.result.output);
  EXPECT_NE(run.report.find("waiting for mutex " + printed.at("mutex") + " held by thread "),
            std::string::npos)
      << run.report;
  EXPECT_NE(run.report.find("(not a thread of this process: another process's, or one that has "
                            "exited)"),
            std::string::npos)
      << run.report;
  EXPECT_EQ(run.report.find("definitely leaked"), std::string::npos) << run.report;
}

// --- 2. A wait left by siglongjmp or a cancellation -------------------------------------------

TEST(Verdicts, AThreadThatJumpedOutOfASleepIsShownWhereItIsNow) {
  TempDir dir;
  const CaseRun run = RunCase("longjmp", "json", dir);
  const auto printed = Printed(run.result.output);
  // Blocked on a mutex whose owner exited: the sleep's slot lies intact in a frame nothing wrote
  // since, and the kernel shows a futex wait.
  const json* jumper = ThreadNamed(run.json_report, "jumper");
  ASSERT_NE(jumper, nullptr) << e2e::Summarize(run.json_report);
  EXPECT_EQ(StringField(*jumper, "state"), "mutex");
  EXPECT_EQ(StringField(*jumper, "object"), printed.at("orphaned"));
  EXPECT_EQ(StringField(*jumper, "certainty"), "definite") << StringField(*jumper, "reason");
  EXPECT_TRUE(e2e::StackHasFunction(e2e::Field(*jumper, "stack"), "LockTheOrphanedMutex"));
  EXPECT_FALSE(e2e::StackHasFunction(e2e::Field(*jumper, "stack"), "SleepLong"));
  // Running, where the kernel shows nothing to compare with: the longjmp itself closed the slot.
  const json* spinner = ThreadNamed(run.json_report, "spinner");
  ASSERT_NE(spinner, nullptr) << e2e::Summarize(run.json_report);
  EXPECT_EQ(StringField(*spinner, "state"), "running") << StringField(*spinner, "reason");
  EXPECT_FALSE(e2e::StackHasFunction(e2e::Field(*spinner, "stack"), "SleepLong"));
}

TEST(Verdicts, ACancelledThreadBlockedInItsCleanupHandlerIsShownWhereItIsNow) {
  TempDir dir;
  const CaseRun run = RunCase("cancel", "json", dir);
  const json* cancelled = ThreadNamed(run.json_report, "cancelled");
  ASSERT_NE(cancelled, nullptr) << e2e::Summarize(run.json_report);
  EXPECT_EQ(StringField(*cancelled, "state"), "mutex") << StringField(*cancelled, "reason");
  EXPECT_EQ(StringField(*cancelled, "certainty"), "definite");
  EXPECT_TRUE(e2e::StackHasFunction(e2e::Field(*cancelled, "stack"), "BlockInCleanup"));
  EXPECT_FALSE(e2e::StackHasFunction(e2e::Field(*cancelled, "stack"), "ReadUntilTheEnd"));
}

// --- 3. C11 call_once and thrd_exit -------------------------------------------------------------

void ExpectOnceWaiterFollowsTheInitialiser(const CaseRun& run) {
  const auto printed = Printed(run.result.output);
  const json* waiter = ThreadNamed(run.json_report, "once-waiter");
  ASSERT_NE(waiter, nullptr) << e2e::Summarize(run.json_report);
  EXPECT_EQ(StringField(*waiter, "state"), "futex");
  EXPECT_EQ(StringField(*waiter, "object"), printed.at("once"));
  EXPECT_EQ(StringField(*waiter, "certainty"), "possible") << StringField(*waiter, "reason");
  const json* initialiser = ThreadNamed(run.json_report, "initialiser");
  ASSERT_NE(initialiser, nullptr);
  EXPECT_EQ(StringField(*initialiser, "state"), "cond");
  EXPECT_EQ(StringField(*initialiser, "certainty"), "possible");
}

TEST(Verdicts, ACallOnceWaiterWhoseInitialiserMayFinishIsPossible) {
  TempDir dir;
  ExpectOnceWaiterFollowsTheInitialiser(RunCase("call_once", "json", dir));
}

TEST(Verdicts, ACallOnceWaiterIsJudgedByWhoEnteredTheOnceWithoutTheScan) {
  TempDir dir;
  const CaseRun run = RunCase("call_once", "json", dir, "leak_scan_max_mb=0");
  ExpectOnceWaiterFollowsTheInitialiser(run);
  const json* waiter = ThreadNamed(run.json_report, "once-waiter");
  ASSERT_NE(waiter, nullptr);
  EXPECT_NE(StringField(*waiter, "reason").find("\"initialiser\""), std::string::npos)
      << StringField(*waiter, "reason");
}

TEST(Verdicts, ThrdExitEndsTheRecordLikePthreadExit) {
  TempDir dir;
  const CaseRun run = RunCase("thrd_exit", "json", dir);
  EXPECT_NE(run.result.output.find("joined thread ended with 7"), std::string::npos);
  const json& threads = e2e::Field(run.json_report, "threads");
  ASSERT_TRUE(threads.is_array());
  ASSERT_EQ(threads.size(), 1u) << e2e::Summarize(run.json_report);
  EXPECT_EQ(StringField(threads[0], "name"), "unjoined-exit");
  EXPECT_EQ(StringField(threads[0], "state"), "finished");
  EXPECT_EQ(std::to_string(e2e::Field(threads[0], "tid").get<int>()),
            Printed(run.result.output).at("unjoined-exit"));
}

// --- 4. Names keep every byte -------------------------------------------------------------------

constexpr char kOddName[] = "a\nb\"c\\d\x01\xff";

TEST(Verdicts, AnOddByteNameRoundTripsInJson) {
  TempDir dir;
  const CaseRun run = RunCase("odd_name", "json", dir);
  const json& threads = e2e::Field(run.json_report, "threads");
  ASSERT_TRUE(threads.is_array());
  ASSERT_EQ(threads.size(), 1u) << run.report;
  // Everything up to the byte that is not UTF-8 is in "name"; "name_hex" has every byte.
  const std::string name = StringField(threads[0], "name");
  EXPECT_EQ(name, std::string("a\nb\"c\\d\x01") + "\xef\xbf\xbd") << run.report;
  std::string hex;
  for (const char* c = kOddName; *c != '\0'; ++c) {
    char digits[3];
    snprintf(digits, sizeof digits, "%02x", static_cast<unsigned char>(*c));
    hex += digits;
  }
  EXPECT_EQ(StringField(threads[0], "name_hex"), hex) << run.report;
}

TEST(Verdicts, AnOddByteNameIsEscapedWholeInText) {
  TempDir dir;
  const CaseRun run = RunCase("odd_name", "text", dir);
  EXPECT_NE(run.report.find(R"("a\x0ab\"c\\d\x01\xff" in state io)"), std::string::npos)
      << run.report;
}

}  // namespace
