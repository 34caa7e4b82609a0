// The signal-triggered dump on a live, service-like program (programs/service.cc): dumped
// several times while it runs, every thread is shown in the right state with the right stack,
// nothing the program does is disturbed, and it then exits cleanly with no leak.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "scripts/dump_request.h"
#include "tests/e2e/support.h"

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Waits until the program printed "ready" (all its threads are blocked).
bool WaitForReady(const std::string& output_path, milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (e2e::ReadWholeFile(output_path).find("ready") != std::string::npos) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

bool WaitForThreadName(pid_t pid, const std::string& name, milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(task_dir, error)) {
      std::string comm = e2e::ReadWholeFile(task.path().string() + "/comm");
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      if (comm == name) return true;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

std::vector<const json*> ThreadsIn(const json& report, const std::string& state,
                                   const std::string& function) {
  std::vector<const json*> found;
  for (const json& thread : report["threads"]) {
    if (thread["state"] == state && e2e::StackHasFunction(thread["stack"], function)) {
      found.push_back(&thread);
    }
  }
  return found;
}

struct DumpedRun {
  e2e::TempDir dir;
  e2e::RunResult result;
  std::vector<json> reports;
  std::string error;
};

void RunAndDump(DumpedRun& run, const std::string& options, int dumps,
                const char* format = "json") {
  std::string output = run.dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {SERVICE, "1500"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS",
        std::string("format=") + format + ":log_path=" + run.dir.path() + "/report" + options}},
      output);
  EXPECT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  for (int i = 1; i <= dumps; ++i) {
    EXPECT_TRUE(threadleak::RequestDump(pid)) << "dump " << i << " could not be asked for";
    // Each finished dump renames the monitor thread "threadleak/N" (N dumps so far).
    EXPECT_TRUE(WaitForThreadName(pid, "threadleak/" + std::to_string(i), milliseconds(10000)))
        << "dump " << i << " never completed";
  }
  run.result = e2e::WaitProgram(pid, output);
  if (std::string(format) == "json") {
    run.reports = e2e::ReadReports(e2e::ReportPath(run.dir, pid), &run.error);
  }
}

TEST(Dump, ServiceIsDumpedRepeatedlyUndisturbedAndExitsClean) {
  DumpedRun run;
  RunAndDump(run, "", 3);
  ASSERT_FALSE(run.result.timed_out);
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.Describe() << "\n"
                                                                << run.result.output;
  EXPECT_NE(run.result.output.find("service done, 0 failures"), std::string::npos)
      << run.result.output;
  ASSERT_EQ(run.reports.size(), 3u) << run.error;  // three dumps, no exit report
  for (const json& dump : run.reports) {
    EXPECT_EQ(dump["trigger"], "signal");
    EXPECT_EQ(dump["leaks"], 0);
    EXPECT_EQ(ThreadsIn(dump, "cond", "WorkQueue::Pop").size(), 4u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "io", "Acceptor").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "sleep", "NanosleepProbe").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "sleep", "SleepProbe").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "io", "PollProbe").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "io", "EpollProbe").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "io", "ReadProbe").size(), 1u) << e2e::Summarize(dump);
    EXPECT_EQ(ThreadsIn(dump, "futex", "FutexProbe").size(), 1u) << e2e::Summarize(dump);
    // The main thread is in a dump (not in leak reports), and so is every worker's creator.
    bool main_found = false;
    for (const json& thread : dump["threads"]) {
      if (thread["main"] == true) main_found = true;
      EXPECT_EQ(thread["verdict"], "alive");
      if (thread["state"] == "cond") {
        EXPECT_TRUE(e2e::StackHasFunction(thread["created_by"]["stack"], "main"));
        EXPECT_GE(thread["blocked_ms"].get<int>(), 0);
      }
    }
    EXPECT_TRUE(main_found);
    // The four workers share state and stacks: one group.
    bool workers_grouped = false;
    for (const json& group : dump["groups"]) {
      if (group["state"] == "cond" && group["count"] == 4) workers_grouped = true;
    }
    EXPECT_TRUE(workers_grouped) << dump["groups"].dump();
  }
}

TEST(Dump, TextDumpGroupsTheWorkers) {
  DumpedRun run;
  RunAndDump(run, "", 1, "text");
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0) << run.result.output;
  std::string text = e2e::ReadWholeFile(e2e::ReportPath(run.dir, run.result.pid));
  EXPECT_NE(text.find("threadleak: dump of "), std::string::npos) << text;
  EXPECT_NE(text.find("[4 threads "), std::string::npos) << text;
  EXPECT_NE(text.find("in state cond (condition variable 0x"), std::string::npos) << text;
  EXPECT_NE(text.find(" the main thread\n"), std::string::npos) << text;
  EXPECT_NE(text.find("SUMMARY: threadleak: "), std::string::npos) << text;
}

TEST(Dump, DumpSignalNoneLeavesTheSignalAlone) {
  // With dumps off SIGUSR2 keeps its default action: the process is killed by it.
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {SERVICE, "1500"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", "dump_signal=none"}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000)));
  kill(pid, SIGUSR2);
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_EQ(result.signal, SIGUSR2) << result.Describe();
}

TEST(Dump, ProgramHandlerForTheDumpSignalKeepsItAndDumpsStillWork) {
  // The program's own SIGUSR2 handler sees its SIGUSR2 as without threadleak (and what it
  // replaced is SIG_DFL), and threadleak's dump requests never reach that handler.
  e2e::TempDir dir;
  e2e::RunResult result = e2e::RunUnderShim(THREADLEAK_SHIM_PATH, {OWN_HANDLER}, dir);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
  EXPECT_EQ(result.output.find("threadleak"), std::string::npos)
      << "nothing to say about the program's handler\n"
      << result.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, result.pid), &error);
  ASSERT_EQ(reports.size(), 1u) << error;
  EXPECT_EQ(reports[0]["trigger"], "signal");
}

TEST(Dump, ADumpSignalSetInAnIncludedFileIsTheOneRequestsUse) {
  // threadleak dump learns the signal from the process, not from its environment.
  e2e::TempDir dir;
  std::string include = dir.path() + "/options";
  std::ofstream(include) << "dump_signal=SIGUSR1\n";
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {SERVICE, "1500"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report:include=" + include}},
      output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  EXPECT_TRUE(threadleak::RequestDump(pid));
  EXPECT_TRUE(WaitForThreadName(pid, "threadleak/1", milliseconds(10000)));
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, pid), &error);
  ASSERT_EQ(reports.size(), 1u) << error;
  EXPECT_EQ(reports[0]["trigger"], "signal");
}

TEST(Dump, TheDumpSignalFromAnyoneElseHasItsUsualEffect) {
  // Dumps on (the default), yet a SIGUSR2 sent to the process kills it, as without threadleak.
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram({SERVICE, "1500"}, {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000)));
  kill(pid, SIGUSR2);
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_EQ(result.signal, SIGUSR2) << result.Describe();
}

// `threadleak dump PID`, its output kept in a directory of its own.
e2e::RunResult DumpWithTheWrapper(pid_t pid, milliseconds limit = milliseconds(30000)) {
  e2e::TempDir dir;
  return e2e::RunProgram({WRAPPER, "dump", std::to_string(pid)}, {}, dir.path() + "/dump.txt",
                         limit);
}

// A program under the shim (JSON reports in the directory), asked for dumps one after the other
// once it printed "ready", then told to stop (the directory's file "stop") and waited for.
struct DumpedWhileRunning {
  e2e::RunResult result;
  int dumps = 0;  // completed
  std::vector<json> reports;
  std::string error;  // from reading the reports
};

DumpedWhileRunning DumpWhileItRuns(const e2e::TempDir& dir, const std::vector<std::string>& argv,
                                   int wanted) {
  DumpedWhileRunning run;
  std::string output = dir.path() + "/output.txt";
  pid_t pid =
      e2e::StartProgram(argv,
                        {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                         {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report"}},
                        output);
  EXPECT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  for (int i = 1; i <= wanted && kill(pid, 0) == 0; ++i) {
    if (!threadleak::RequestDump(pid)) break;
    if (!WaitForThreadName(pid, "threadleak/" + std::to_string(i), milliseconds(10000))) break;
    ++run.dumps;
  }
  std::ofstream(dir.path() + "/stop") << "stop\n";
  run.result = e2e::WaitProgram(pid, output);
  run.reports = e2e::ReadReports(e2e::ReportPath(dir, pid), &run.error);
  return run;
}

TEST(Dump, DumpsDuringHeavyThreadChurnNeitherCrashNorHang) {
  e2e::TempDir dir;
  constexpr int kDumps = 6;
  // It runs until told to stop (a file), or 60 s: dumps take longer in a sanitizer build.
  const DumpedWhileRunning run =
      DumpWhileItRuns(dir, {CHURN, "60000", dir.path() + "/stop"}, kDumps);
  ASSERT_FALSE(run.result.timed_out);
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0)
      << run.result.Describe() << run.result.output;
  EXPECT_EQ(run.dumps, kDumps) << "a dump never completed";
  EXPECT_EQ(static_cast<int>(run.reports.size()), run.dumps) << run.error;
  for (const json& report : run.reports) EXPECT_EQ(report["trigger"], "signal");
}

TEST(Dump, WorkersInAndOutOfTheirConditionVariableAreNeverShownInAFutexOfTheirOwn) {
  // A dump copies the threads' wait slots, then reads each thread's system call: a worker that
  // ran at the first look and waits in pthread_cond_wait at the second was taken for a futex
  // wait no hook saw, on the condition variable's inner word, and judged certain to leak
  // (nothing is recorded as waking that word). Seen in nginx's thread pool under load.
  e2e::TempDir dir;
  constexpr int kDumps = 30;
  const DumpedWhileRunning run = DumpWhileItRuns(dir, {BUSY_POOL, dir.path() + "/stop"}, kDumps);
  ASSERT_FALSE(run.result.timed_out);
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0)
      << run.result.Describe() << run.result.output;
  EXPECT_EQ(run.dumps, kDumps) << "a dump never completed";
  ASSERT_EQ(static_cast<int>(run.reports.size()), run.dumps) << run.error;
  int workers_seen = 0, in_cond = 0;
  for (const json& report : run.reports) {
    for (const json& thread : report["threads"]) {
      if (thread["name"] != "pool") continue;
      ++workers_seen;
      const std::string state = thread["state"];
      std::string functions;
      for (const json& frame : thread["stack"]) {
        functions += " " + frame.value("function", std::string("?"));
      }
      EXPECT_TRUE(state == "cond" || state == "running" || state == "mutex")
          << state << " on " << thread["object"] << ", stack:" << functions;
      EXPECT_NE(thread.value("certainty", ""), "definite") << state << ", stack:" << functions;
      if (state == "cond") ++in_cond;
    }
  }
  EXPECT_EQ(workers_seen, 4 * run.dumps);
  EXPECT_GT(in_cond, 0);
}

// The checks DumpWhileItRuns made of itself for the two tests below.
void ExpectEveryDumpDone(const DumpedWhileRunning& run, int wanted) {
  EXPECT_FALSE(run.result.timed_out);
  EXPECT_EQ(run.dumps, wanted) << "a dump never completed";
  EXPECT_EQ(static_cast<int>(run.reports.size()), run.dumps) << run.error;
}

TEST(Dump, AThreadWhoseRecordAnotherThreadTookOverIsNeverShownInThatThreadsWait) {
  // A record is reused once its thread has ended and been joined. A dump that copied a spinner's
  // record and looked at it again after a sleeper had taken it over showed the spinner (by
  // then gone) in the sleeper's usleep.
  e2e::TempDir dir;
  const std::string tids_file = dir.path() + "/spinners";
  const DumpedWhileRunning run =
      DumpWhileItRuns(dir, {RECORD_REUSE, dir.path() + "/stop", tids_file}, 40);
  ExpectEveryDumpDone(run, 40);
  std::set<int> spinners;
  std::istringstream tids(e2e::ReadWholeFile(tids_file));
  for (int tid; tids >> tid;) spinners.insert(tid);
  ASSERT_FALSE(spinners.empty()) << run.result.output;
  int rows = 0;
  for (const json& report : run.reports) {
    for (const json& thread : report["threads"]) {
      if (spinners.count(thread["tid"].get<int>()) == 0) continue;
      ++rows;
      const std::string state = thread["state"];
      EXPECT_TRUE(state == "running" || state == "finished") << thread.dump();
    }
  }
  EXPECT_GT(rows, 0);
}

TEST(Dump, AWaitLeftWithoutItsHookKnowingIsNeverBroughtBack) {
  // setcontext out of a hooked sleep leaves the slot saying "sleep"; the thread then waits in
  // raw futex calls. Taken for stale at the first look, the slot came back as the thread's wait
  // at a second look (the thread between two futex waits).
  e2e::TempDir dir;
  const DumpedWhileRunning run = DumpWhileItRuns(dir, {STALE_SLOT, dir.path() + "/stop"}, 30);
  ExpectEveryDumpDone(run, 30);
  const size_t at = run.result.output.find("ready tid ");
  ASSERT_NE(at, std::string::npos) << run.result.output;
  const int tid = std::stoi(run.result.output.substr(at + 10));
  int rows = 0;
  for (const json& report : run.reports) {
    for (const json& thread : report["threads"]) {
      if (thread["tid"] != tid) continue;
      ++rows;
      const std::string state = thread["state"];
      EXPECT_TRUE(state == "futex" || state == "running") << thread.dump();
    }
  }
  EXPECT_EQ(rows, static_cast<int>(run.reports.size()));
}

TEST(Dump, AThreadThatMovedToAnotherIoCallIsNamedInTheCallItsStackShows) {
  // A dump names an I/O wait's call at its first look and unwinds the thread a moment later: a
  // thread by then in another hooked I/O call was unwound there, and shown with the new call's
  // stack under the first call's name (nginx: "in epoll_wait" over a writev stack).
  e2e::TempDir dir;
  constexpr int kDumps = 30;
  const DumpedWhileRunning run = DumpWhileItRuns(dir, {TWO_IO_WAITS, dir.path() + "/stop"}, kDumps);
  ExpectEveryDumpDone(run, kDumps);
  EXPECT_TRUE(run.result.exited && run.result.exit_status == 0)
      << run.result.Describe() << run.result.output;
  int named = 0;
  for (const json& report : run.reports) {
    for (const json& thread : report["threads"]) {
      if (thread["name"] != "io" || !thread["syscall"].is_string()) continue;
      const std::string call = thread["syscall"];
      bool in_poll = false, in_select = false;
      for (const json& frame : thread["stack"]) {
        const std::string function = frame.value("function", std::string());
        in_poll |= function.find("WaitInPoll") != std::string::npos;
        in_select |= function.find("WaitInSelect") != std::string::npos;
      }
      if (!in_poll && !in_select) continue;  // no stack of the program's: nothing to match
      ++named;
      const bool poll_call = call.find("poll") != std::string::npos;
      EXPECT_EQ(poll_call, in_poll)
          << call << " over " << (in_poll ? "poll's" : "select's") << " stack: " << thread.dump();
    }
  }
  EXPECT_GT(named, 0);
}

TEST(Wrapper, DumpPrintsTheDumpOfARunningProcess) {
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram({WRAPPER, "--log-path", dir.path() + "/report", SERVICE, "2500"},
                                {{"LD_PRELOAD", std::nullopt}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  e2e::RunResult dump = DumpWithTheWrapper(pid);
  EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
  EXPECT_NE(dump.output.find("threadleak: dump of 13 threads of process " + std::to_string(pid)),
            std::string::npos)
      << dump.output;
  EXPECT_NE(dump.output.find("WorkQueue::Pop()"), std::string::npos) << dump.output;
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
}

// `threadleak dump` learns the signal from the process it asks, never from its own environment:
// a process started with a dump signal other than the default — set in THREADLEAK_OPTIONS, or in
// a file that include= names — is dumped when asked from an environment that says dumps are off,
// or names the default signal. The service does not handle SIGUSR2: had that been sent, it would
// have ended it.
class DumpSignalOfTheProcess : public ::testing::TestWithParam<std::string> {};

TEST_P(DumpSignalOfTheProcess, IsTheOneThreadleakDumpSends) {
  e2e::TempDir dir;
  std::string options = "log_path=" + dir.path() + "/report";
  if (GetParam() == "environment") {
    options += ":dump_signal=SIGUSR1";
  } else {
    const std::string include = dir.path() + "/options";
    std::ofstream(include) << "# the service's options\ndump_signal=SIGRTMIN+5\n";
    options += ":include=" + include;
  }
  const std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {SERVICE, "6000"}, {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", options}},
      output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  int dumps = 0;
  for (const char* requester_options : {"dump_signal=none", "dump_signal=SIGUSR2"}) {
    SCOPED_TRACE(requester_options);
    e2e::RunResult dump =
        e2e::RunProgram({WRAPPER, "dump", std::to_string(pid)},
                        {{"THREADLEAK_OPTIONS", requester_options}}, dir.path() + "/dump.txt");
    EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
    EXPECT_NE(dump.output.find("threadleak: dump of 13 threads of process " + std::to_string(pid)),
              std::string::npos)
        << dump.output;
    ++dumps;
    EXPECT_TRUE(WaitForThreadName(pid, "threadleak/" + std::to_string(dumps), milliseconds(10000)));
  }
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
  // The process logged both dumps too.
  const std::string log = e2e::ReadWholeFile(e2e::ReportPath(dir, pid));
  size_t logged = 0;
  for (size_t at = 0; (at = log.find("threadleak: dump of ", at)) != std::string::npos; ++at) {
    ++logged;
  }
  EXPECT_EQ(logged, 2u) << log;
}

INSTANTIATE_TEST_SUITE_P(SetIn, DumpSignalOfTheProcess,
                         ::testing::Values(std::string("environment"), std::string("include")),
                         [](const auto& info) { return info.param; });

TEST(Wrapper, DumpOfASingleThreadedProcessSaysThereIsNothingToDump) {
  // The shim starts its dump thread with the program's first thread, so a process that never
  // made one has none; its lone main thread is no leak.
  e2e::TempDir dir;
  pid_t pid = e2e::StartProgram({WRAPPER, "sleep", "20"}, {{"LD_PRELOAD", std::nullopt}},
                                dir.path() + "/output.txt");
  std::string maps = "/proc/" + std::to_string(pid) + "/maps";
  auto deadline = std::chrono::steady_clock::now() + milliseconds(10000);
  while (e2e::ReadWholeFile(maps).find("libthreadleak.so") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  e2e::RunResult dump = DumpWithTheWrapper(pid);
  EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
  EXPECT_NE(dump.output.find("has only its main thread"), std::string::npos) << dump.output;
  EXPECT_EQ(kill(pid, 0), 0) << "the process must not be disturbed";
  kill(pid, SIGTERM);
  e2e::WaitProgram(pid, dir.path() + "/output.txt");
}

TEST(Wrapper, DumpAsRootOfAProcessThatGaveUpRootPrintsTheDump) {
  // The process opens the requester's pipe through /proc/<requester>/fd: as `nobody` it could
  // not open root's, its dump went to its own log only, and `threadleak dump` printed nothing
  // and returned 0 (memcached -u nobody). Now the request is made as the process's user.
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to start a process that gives it up";
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid =
      e2e::StartProgram({WRAPPER, GIVES_UP_ROOT, "20000"}, {{"LD_PRELOAD", std::nullopt}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  ASSERT_NE(e2e::ReadWholeFile(output).find("ready as uid 65534"), std::string::npos);
  e2e::RunResult dump = DumpWithTheWrapper(pid);
  EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
  EXPECT_NE(dump.output.find("threadleak: dump of 3 threads of process " + std::to_string(pid)),
            std::string::npos)
      << dump.output;
  // Not dumpable since it changed user: its writer (of that user too) cannot read its stacks,
  // and says so rather than leaving them blank.
  EXPECT_NE(dump.output.find("no stack: threadleak could not read the process's memory"),
            std::string::npos)
      << dump.output;
  kill(pid, SIGKILL);
  e2e::WaitProgram(pid, output);
}

TEST(Wrapper, DumpOfAProcessThatEndsRightAfterItPrintsTheDump) {
  // `threadleak dump` knows a dump is done when the process's threadleak thread is renamed; a
  // process that ended just after (an nginx worker after a reload) took the rename with it, and
  // dump said "wrote no dump" (exit 2) below the whole dump it had printed.
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {ENDS_AFTER_DUMP},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}, {"THREADLEAK_OPTIONS", "format=json"}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  e2e::RunResult dump = DumpWithTheWrapper(pid);
  EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
  EXPECT_NE(dump.output.find("\"name\":\"parked\""), std::string::npos) << dump.output;
  EXPECT_EQ(dump.output.find("wrote no dump"), std::string::npos) << dump.output;
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
}

TEST(Wrapper, DumpReturnsWhileChildrenForkedDuringItHoldTheRequestersPipe) {
  // The process holds the requester's pipe while it writes the dump; a child forked meanwhile
  // inherits it, and `threadleak dump` waited for the end of the file, which such a child held
  // off for as long as it lived (a prefork server's worker: for good).
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram({FORKS_DURING_DUMP, dir.path() + "/stop"},
                                {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}}, output);
  ASSERT_TRUE(WaitForReady(output, milliseconds(10000))) << e2e::ReadWholeFile(output);
  for (int i = 0; i < 5; ++i) {
    e2e::RunResult dump = DumpWithTheWrapper(pid, milliseconds(20000));
    ASSERT_FALSE(dump.timed_out) << "dump " << i + 1 << " never returned";
    EXPECT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
    EXPECT_NE(dump.output.find("\"forker\""), std::string::npos) << dump.output;
  }
  std::ofstream(dir.path() + "/stop") << "stop\n";
  e2e::RunResult result = e2e::WaitProgram(pid, output);
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
}

TEST(Wrapper, DumpRefusesAProcessWithoutTheShim) {
  e2e::TempDir dir;
  e2e::RunResult dump =
      e2e::RunProgram({WRAPPER, "dump", std::to_string(getpid())}, {}, dir.path() + "/dump.txt");
  EXPECT_EQ(dump.exit_status, 2);
  EXPECT_NE(dump.output.find("does not run under threadleak"), std::string::npos) << dump.output;
  dump = e2e::RunProgram({WRAPPER, "dump", "not-a-pid"}, {}, dir.path() + "/dump.txt");
  EXPECT_EQ(dump.exit_status, 2);
}

TEST(Wrapper, TimeoutDumpsEveryThreadThenEndsWith124) {
  e2e::TempDir dir;
  e2e::RunResult result =
      e2e::RunProgram({WRAPPER, "--json", "--log-path", dir.path() + "/report", "--timeout", "0.8",
                       SERVICE, "5000"},
                      {{"LD_PRELOAD", std::nullopt}}, dir.path() + "/output.txt");
  EXPECT_TRUE(result.exited && result.exit_status == 124) << result.Describe() << result.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, result.pid), &error);
  ASSERT_EQ(reports.size(), 1u) << error;
  EXPECT_EQ(reports[0]["trigger"], "timeout");
  EXPECT_EQ(ThreadsIn(reports[0], "cond", "WorkQueue::Pop").size(), 4u);
  EXPECT_EQ(ThreadsIn(reports[0], "io", "Acceptor").size(), 1u);
}

TEST(Watchdog, ReportsALongWaitOnceAndTheProgramGoesOn) {
  e2e::TempDir dir;
  e2e::RunResult result = e2e::RunProgram(
      {SERVICE, "1500"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:watchdog_ms=600:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, result.pid), &error);
  ASSERT_FALSE(reports.empty()) << error;
  size_t workers_reported = 0;
  for (const json& report : reports) {
    EXPECT_EQ(report["trigger"], "watchdog");
    for (const json& thread : report["threads"]) {
      EXPECT_EQ(thread["verdict"], "blocked");
      EXPECT_GE(thread["blocked_ms"].get<int>(), 600) << thread.dump();
      if (e2e::StackHasFunction(thread["stack"], "WorkQueue::Pop")) ++workers_reported;
    }
  }
  EXPECT_EQ(workers_reported, 4u) << "each worker's wait reported exactly once";
}

TEST(Watchdog, SeesThreadsDeadlockedOnMutexes) {
  // Lock waits are recorded for the watchdog (without it, a report finds them from the stack).
  e2e::TempDir dir;
  e2e::RunResult result = e2e::RunProgram(
      {DEADLOCK, "1500"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:watchdog_ms=300:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  EXPECT_TRUE(result.exited && result.exit_status == 0) << result.Describe() << result.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, result.pid), &error);
  ASSERT_FALSE(reports.empty()) << error;
  size_t in_mutex = 0;
  for (const json& report : reports) {
    for (const json& thread : report["threads"]) {
      if (thread["state"] == "mutex" && (e2e::StackHasFunction(thread["stack"], "TakeAThenB") ||
                                         e2e::StackHasFunction(thread["stack"], "TakeBThenA"))) {
        ++in_mutex;
      }
    }
  }
  EXPECT_EQ(in_mutex, 2u) << reports.size() << " watchdog reports";
}

}  // namespace
