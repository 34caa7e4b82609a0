// Issue 12, "Observe without interrupting": dumps and exit reports must never change what the
// program sees. Each test runs a scenario program (programs/) twice at once — without the tool,
// and under it while `threadleak dump` is asked for 20 dumps during the wait — then wakes both
// the same way and requires the same result lines and exit status, and dumps that show the
// threads under test (harness.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "tests/transparency/harness.h"

namespace transparency {
namespace {

using std::chrono::milliseconds;

// --- items 1 and 2: each call returns what it returns without the tool -------------------------

struct WaitCase {
  const char* mode;  // tp_waits' mode, also the test's name
  Wake wake;         // SIGUSR1 from the harness, or the trigger (main wakes the waiter)
};

void PrintTo(const WaitCase& param, std::ostream* out) {
  *out << param.mode;
}

std::string CaseName(const testing::TestParamInfo<WaitCase>& info) {
  return info.param.mode;
}

class Waits : public testing::TestWithParam<WaitCase> {};

TEST_P(Waits, ReturnWhatTheyReturnWithoutTheTool) {
  const WaitCase& param = GetParam();
  e2e::TempDir dir;
  Scenario scenario{.program = TRANSPARENCY_WAITS,
                    .mode = param.mode,
                    .asleep = {"waiter"},
                    .wake = param.wake,
                    .wake_signal = SIGUSR1};
  TwinRuns runs = RunTwins(dir, scenario);
  if (runs.plain.Stdout().find(" unsupported") != std::string::npos) {
    GTEST_SKIP() << param.mode << " does not work here even without the tool:\n"
                 << runs.plain.Stdout();
  }
  ExpectSameBehaviour(runs);
  ExpectEveryDumpShows(runs, kDumps, "waiter", 1, "WaiterMain");
  std::cout << kDumps << " dumps took " << runs.dump_seconds << " s\n";
}

// Timed calls repeat with a 200 ms timeout until woken; untimed ones wait once. Sleeps repeat
// until told to stop. Every wake-up comes after the 20 dumps.
const WaitCase kCalls[] = {
    {"sem_timedwait", Wake::kTrigger}, {"sem_clockwait", Wake::kTrigger},
    {"futex_wait", Wake::kTrigger},    {"sigtimedwait", Wake::kSignal},
    {"sigwaitinfo", Wake::kSignal},    {"thrd_sleep", Wake::kTrigger},
    {"epoll_pwait2", Wake::kTrigger},  {"recv", Wake::kTrigger},
    {"accept", Wake::kTrigger},        {"msgrcv", Wake::kTrigger},
    {"semop", Wake::kTrigger},         {"semtimedop", Wake::kTrigger},
    {"io_getevents", Wake::kTrigger},  {"nanosleep", Wake::kTrigger},
    {"usleep", Wake::kTrigger},        {"poll", Wake::kTrigger},
    {"ppoll", Wake::kTrigger},         {"select", Wake::kTrigger},
    {"pselect", Wake::kTrigger},       {"epoll_wait", Wake::kTrigger},
    {"epoll_pwait", Wake::kTrigger},
};
INSTANTIATE_TEST_SUITE_P(Calls, Waits, testing::ValuesIn(kCalls), CaseName);

// Item 1: a mask that lets only SIGUSR1 through. The tool's signal must not be what ends the
// wait, nor be left pending so that SIGUSR1 is lost: after the dumps, SIGUSR1 must wake it.
const WaitCase kMaskedCalls[] = {
    {"sigsuspend_masked", Wake::kSignal},
    {"ppoll_masked", Wake::kSignal},
    {"pselect_masked", Wake::kSignal},
};
INSTANTIATE_TEST_SUITE_P(MaskedToAllButSigusr1, Waits, testing::ValuesIn(kMaskedCalls), CaseName);

// --- item 3: programs that own their signals ----------------------------------------------------

// Every signal blocked in every thread, one thread takes them all with sigwaitinfo: it must
// receive SIGTERM and nothing else — not the tool's sampling signal, not the dump request.
TEST(Signals, DaemonSignalThreadReceivesOnlyTheProgramsSignals) {
  e2e::TempDir dir;
  TwinRuns runs = RunTwins(dir, {.program = TRANSPARENCY_SIGNALS,
                                 .mode = "signal_thread",
                                 .asleep = {"sigwaiter"},
                                 .wake = Wake::kSignal,
                                 .wake_signal = SIGTERM});
  ExpectSameBehaviour(runs);
  EXPECT_EQ(Lines(runs.plain.Stdout()),
            (std::vector<std::string>{"ready", "received 15 (TERM)", "done"}));
  ExpectEveryDumpShows(runs, kDumps, "sigwaiter", 1, "SignalThreadMain");
}

// Every disposition back to SIG_DFL, then main returns with a thread blocked: under the shim the
// process reports the leak and exits 66 — it must not die of the tool's signal at exit.
TEST(Signals, DefaultDispositionsEverywhereDoNotKillTheProcessAtExit) {
  e2e::TempDir dir;
  TwinRuns runs = RunTwins(
      dir, {.program = TRANSPARENCY_SIGNALS, .mode = "reset_dispositions", .asleep = {"blocked"}});
  ExpectSameBehaviour(runs, /*shim_exit_status=*/66);
  ExpectEveryDumpShows(runs, kDumps, "blocked", 1, "BlockedReaderMain");
  ExpectExitReportLists(runs, "blocked", 1, "BlockedReaderMain");
}

// A handler for every real-time signal, the tool's own choice among them included, installed
// before the dumps: after them, each signal sigqueue()d once runs its handler once, with the
// program's si_code and value.
TEST(Signals, OwnHandlersForEveryRealTimeSignalRunOnlyForTheProgramsSignals) {
  e2e::TempDir dir;
  TwinRuns runs =
      RunTwins(dir, {.program = TRANSPARENCY_SIGNALS, .mode = "rt_handlers", .asleep = {"waiter"}});
  ExpectSameBehaviour(runs);
  EXPECT_NE(runs.plain.Stdout().find("SIGRTMIN+0 handled=1 si_code=SI_QUEUE,value=signal\n"),
            std::string::npos)
      << runs.plain.Describe();
  ExpectEveryDumpShows(runs, kDumps, "waiter", 1, "ParkedWaiterMain");
}

// --- item 4: threads that cannot or must not be interrupted -------------------------------------

// Threads that block every signal can only be unwound from outside: every dump and the exit
// report must show their whole stack, down to the function they wait in.
TEST(Stacks, ThreadsBlockingEverySignalShowTheFunctionTheyWaitIn) {
  e2e::TempDir dir;
  TwinRuns runs = RunTwins(
      dir,
      {.program = TRANSPARENCY_THREADS, .mode = "blocked_every_signal", .asleep = {"blocker"}});
  ExpectSameBehaviour(runs, /*shim_exit_status=*/66);
  ExpectEveryDumpShows(runs, kDumps, "blocker", 3, "BlockedEverySignalWorker");
  ExpectExitReportLists(runs, "blocker", 3, "BlockedEverySignalWorker");
}

// About 3 KiB of stack left: no room for a signal frame (the FPU state alone can take more).
TEST(Stacks, ThreadWithThreeKilobytesOfStackLeftSurvivesDumpsAndIsReported) {
  e2e::TempDir dir;
  TwinRuns runs = RunTwins(
      dir, {.program = TRANSPARENCY_THREADS, .mode = "small_stack", .asleep = {"smallstack"}});
  ExpectSameBehaviour(runs, /*shim_exit_status=*/66);
  EXPECT_NE(runs.plain.Stdout().find("stack_left_about_3k=yes"), std::string::npos)
      << runs.plain.Describe();
  ExpectEveryDumpShows(runs, kDumps, "smallstack", 1, "BlockNearTheStackLimit");
  ExpectExitReportLists(runs, "smallstack", 1, "BlockNearTheStackLimit");
}

// A waiter on a condition variable that was freed and whose memory now holds other data: any
// wake-up makes glibc read that data and return, so it must never be woken, by dumps or at exit.
TEST(Stacks, WaiterOnAFreedAndReusedConditionVariableStaysAsleep) {
  e2e::TempDir dir;
  TwinRuns runs = RunTwins(
      dir, {.program = TRANSPARENCY_THREADS, .mode = "freed_condvar", .asleep = {"cvwaiter"}});
  ExpectSameBehaviour(runs, /*shim_exit_status=*/66);
  EXPECT_NE(runs.plain.Stdout().find("waiter_returned=no"), std::string::npos)
      << runs.plain.Describe();
  ExpectEveryDumpShows(runs, kDumps, "cvwaiter", 1, "CondvarWaiterMain");
  ExpectExitReportLists(runs, "cvwaiter", 1, "CondvarWaiterMain");
}

// --- item 5: under a debugger -------------------------------------------------------------------

// gdb stops the program at every signal its threads receive: the exit report of a leaked thread
// must not make it say "received signal".
TEST(Debugger, GdbSeesNoSignalFromTheExitReport) {
  if (access("/usr/bin/gdb", X_OK) != 0) GTEST_SKIP() << "gdb is not installed (/usr/bin/gdb)";
  const std::vector<std::string> gdb = {
      "/usr/bin/gdb",       "-nx",          "-batch", "-ex", "run", "--args",
      TRANSPARENCY_THREADS, "leak_at_exit", "unused"};
  e2e::TempDir dir;
  // Without the tool first: gdb may be unable to run programs here (ptrace not permitted).
  e2e::RunResult plain = e2e::RunProgram(
      gdb,
      {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}, {"DEBUGINFOD_URLS", ""}},
      dir.path() + "/plain.txt", milliseconds(60000));
  if (plain.output.find("exited normally") == std::string::npos) {
    GTEST_SKIP() << "gdb cannot run the program here: " << plain.Describe() << "\n" << plain.output;
  }
  // LD_PRELOAD in gdb's environment, as a user would set it: gdb and the program both get it.
  e2e::RunResult run = e2e::RunProgram(
      gdb,
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report:linger_ms=100"},
       {"DEBUGINFOD_URLS", ""}},
      dir.path() + "/shim.txt", milliseconds(60000));
  EXPECT_FALSE(run.timed_out) << run.output;
  EXPECT_EQ(run.output.find("received signal"), std::string::npos) << run.output;
  // The program ran to its end and reported its leak (exit status 66 is 0102 in gdb's octal).
  EXPECT_NE(run.output.find("exited with code 0102"), std::string::npos) << run.output;
}

// --- scale (Done when 5) ------------------------------------------------------------------------

// Threads that block every signal, many of them: the exit report lists them all. How long it
// took from exit() to the end of the process is printed, not checked (the machine is shared).
TEST(Scale, TwoThousandThreadsBlockingEverySignalAreAllReportedAtExit) {
  constexpr int kThreads = 2000;
  e2e::TempDir dir;
  e2e::RunResult result =
      RunUnderShim(dir, {TRANSPARENCY_THREADS, "scale", "unused", std::to_string(kThreads)},
                   milliseconds(60000));
  const auto ended = std::chrono::steady_clock::now();
  ASSERT_TRUE(result.exited) << result.Describe() << "\n" << result.output.substr(0, 4000);
  EXPECT_EQ(result.exit_status, 66) << result.output.substr(0, 4000);

  // steady_clock is CLOCK_MONOTONIC, the clock the program printed.
  const std::string key = "exit_at_ns=";
  const size_t at = result.output.find(key);
  ASSERT_NE(at, std::string::npos) << result.output.substr(0, 4000);
  const long long exit_at = std::stoll(result.output.substr(at + key.size()));
  const long long ended_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(ended.time_since_epoch()).count();
  const double report_ms = static_cast<double>(ended_ns - exit_at) / 1e6;
  std::cout << "exit report of " << kThreads << " threads blocking every signal: " << report_ms
            << " ms from exit() to the end of the process (linger_ms=100 included)\n";
  RecordProperty("exit_report_ms", std::to_string(report_ms));

  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, result.pid), &error);
  ASSERT_TRUE(report.has_value()) << error;
  EXPECT_EQ(e2e::Field(*report, "leaks"), kThreads);
  EXPECT_EQ(ThreadsNamed(*report, "parked").size(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace transparency
