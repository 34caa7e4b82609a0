#include "tests/transparency/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace transparency {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kStartLimit{15000};   // until "ready" and the threads asleep
constexpr milliseconds kDumpLimit{10000};    // one `threadleak dump`; ~0.1 s when all is well
constexpr milliseconds kFinishLimit{10000};  // from the wake-up to the end of a run

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const std::string& candidate : Lines(text)) {
    if (candidate == line) return true;
  }
  return false;
}

// The environment of a run: the shim's, or none of it (the caller of ctest may have either).
e2e::EnvChanges Environment(const e2e::TempDir& dir, bool shim) {
  if (!shim) return {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}};
  return {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
          {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report:linger_ms=100"}};
}

Run Start(const e2e::TempDir& dir, const Scenario& scenario, const std::string& name, bool shim) {
  Run run;
  run.name = name;
  run.stdout_path = dir.path() + "/" + name + ".stdout";
  run.stderr_path = dir.path() + "/" + name + ".stderr";
  run.fifo_path = dir.path() + "/" + name + ".fifo";
  if (mkfifo(run.fifo_path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
  // The shell only moves stderr aside and execs the program (same pid): the result lines on
  // stdout are then the program's alone, whatever the tool says on stderr.
  run.pid = e2e::StartProgram({"/bin/sh", "-c", "exec \"$@\" 2>\"$0\"", run.stderr_path,
                               scenario.program, scenario.mode, run.fifo_path},
                              Environment(dir, shim), run.stdout_path);
  return run;
}

// Whether process `pid` still runs: not gone, and not a zombie waiting to be reaped (which the
// harness does only later, in WaitProgram).
bool Alive(pid_t pid) {
  const std::string stat = e2e::ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool AwaitReady(const Run& run, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (HasLine(e2e::ReadWholeFile(run.stdout_path), "ready")) return true;
    if (!Alive(run.pid)) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

// Whether every thread of `pid` named `name` (at least one) sleeps in the kernel.
bool ThreadsAsleep(pid_t pid, const std::string& name) {
  std::error_code error;
  int found = 0;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(task_dir, error)) {
    if (Trimmed(e2e::ReadWholeFile(task.path().string() + "/comm")) != name) continue;
    const std::string stat = e2e::ReadWholeFile(task.path().string() + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'S') {
      return false;
    }
    ++found;
  }
  return found > 0;
}

bool AwaitAsleep(const Run& run, const std::vector<std::string>& names,
                 Clock::time_point deadline) {
  for (const std::string& name : names) {
    while (!ThreadsAsleep(run.pid, name)) {
      if (Clock::now() >= deadline || !Alive(run.pid)) return false;
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  return true;
}

void WakeUp(const Run& run, const Scenario& scenario) {
  if (scenario.wake == Wake::kSignal) {
    kill(run.pid, scenario.wake_signal);
    return;
  }
  // The program holds the FIFO open for reading (O_RDWR), so this never blocks; if it has
  // already ended there is nobody to wake.
  int fd = open(run.fifo_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "w", 1) != 1) ADD_FAILURE() << "could not write to " << run.fifo_path;
  close(fd);
}

// Requests the dumps one at a time; returns how many were written.
int RequestDumps(const e2e::TempDir& dir, pid_t pid, int count, std::string* error) {
  for (int i = 0; i < count; ++i) {
    e2e::RunResult dump =
        e2e::RunProgram({TRANSPARENCY_WRAPPER, "dump", std::to_string(pid)},
                        {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}},
                        dir.path() + "/dump.txt", kDumpLimit);
    if (!dump.exited || dump.exit_status != 0) {
      *error = "`threadleak dump` number " + std::to_string(i + 1) + ": " + dump.Describe() +
               "; it said:\n" + dump.output.substr(0, 2000);
      return i;
    }
  }
  return count;
}

void RemoveAnnouncedIpc(const Run& run) {
  std::istringstream lines(e2e::ReadWholeFile(run.stderr_path));
  std::string word, kind;
  int id = -1;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    if (!(fields >> word >> kind >> id) || word != "ipc_cleanup") continue;
    if (kind == "msq") msgctl(id, IPC_RMID, nullptr);
    if (kind == "sem") semctl(id, 0, IPC_RMID);
  }
}

// Where two outputs first differ, for a message.
std::string FirstDifference(const std::vector<std::string>& shim,
                            const std::vector<std::string>& plain) {
  for (size_t i = 0; i < std::max(shim.size(), plain.size()); ++i) {
    const std::string a = i < shim.size() ? "\"" + shim[i] + "\"" : "(no line)";
    const std::string b = i < plain.size() ? "\"" + plain[i] + "\"" : "(no line)";
    if (a != b) {
      return "line " + std::to_string(i + 1) + ": under the shim " + a + ", without it " + b;
    }
  }
  return "none";
}

}  // namespace

std::string Run::Stdout() const {
  return e2e::ReadWholeFile(stdout_path);
}
std::string Run::Stderr() const {
  return e2e::ReadWholeFile(stderr_path);
}

std::string Run::Describe() const {
  return name + " run (pid " + std::to_string(pid) + "): " + result.Describe() + "\n--- stdout\n" +
         Stdout() + "--- stderr\n" + Stderr().substr(0, 4000) + "---";
}

TwinRuns RunTwins(const e2e::TempDir& dir, const Scenario& scenario) {
  TwinRuns runs;
  runs.plain = Start(dir, scenario, "plain", /*shim=*/false);
  runs.shim = Start(dir, scenario, "shim", /*shim=*/true);

  const Clock::time_point deadline = Clock::now() + kStartLimit;
  for (Run* run : {&runs.plain, &runs.shim}) {
    if (!AwaitReady(*run, deadline)) {
      runs.setup_error += "the " + run->name + " run never printed \"ready\". ";
    } else if (!AwaitAsleep(*run, scenario.asleep, deadline)) {
      runs.setup_error += "in the " + run->name + " run the threads under test never slept. ";
    }
  }

  if (runs.setup_error.empty()) {
    const Clock::time_point start = Clock::now();
    runs.dumps_requested = RequestDumps(dir, runs.shim.pid, scenario.dumps, &runs.dump_error);
    runs.dump_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  }

  // Both are woken at the same moment, so both waited as long.
  WakeUp(runs.plain, scenario);
  WakeUp(runs.shim, scenario);
  runs.plain.result = e2e::WaitProgram(runs.plain.pid, runs.plain.stdout_path, kFinishLimit);
  runs.shim.result = e2e::WaitProgram(runs.shim.pid, runs.shim.stdout_path, kFinishLimit);
  RemoveAnnouncedIpc(runs.plain);
  RemoveAnnouncedIpc(runs.shim);

  const std::string report_path = e2e::ReportPath(dir, runs.shim.pid);
  if (std::filesystem::exists(report_path)) {
    for (json& report : e2e::ReadReports(report_path, &runs.report_error)) {
      if (e2e::StringField(report, "trigger") == "exit") {
        runs.exit_report = std::move(report);
      } else {
        runs.dumps.push_back(std::move(report));
      }
    }
  } else {
    runs.report_error = "no report file " + report_path;
  }
  return runs;
}

e2e::RunResult RunUnderShim(const e2e::TempDir& dir, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) {
  return e2e::RunProgram(argv, Environment(dir, /*shim=*/true), dir.path() + "/output.txt",
                         timeout);
}

std::vector<const json*> ThreadsNamed(const json& report, const std::string& name) {
  std::vector<const json*> found;
  const json& threads = e2e::Field(report, "threads");
  if (!threads.is_array()) return found;
  for (const json& thread : threads) {
    if (e2e::StringField(thread, "name") == name) found.push_back(&thread);
  }
  return found;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void ExpectSameBehaviour(const TwinRuns& runs, int shim_exit_status) {
  EXPECT_EQ(runs.setup_error, "") << runs.plain.Describe() << "\n" << runs.shim.Describe();
  ASSERT_TRUE(runs.plain.result.exited && runs.plain.result.exit_status == 0)
      << "the program misbehaves even without the tool: " << runs.plain.Describe();
  EXPECT_FALSE(runs.shim.result.timed_out)
      << "under the shim the program never ended (killed after "
      << std::chrono::duration_cast<std::chrono::seconds>(kFinishLimit).count()
      << " s): " << runs.shim.Describe();
  EXPECT_EQ(runs.shim.result.signal, 0) << "under the shim the program died by signal "
                                        << runs.shim.result.signal << ": " << runs.shim.Describe();
  EXPECT_TRUE(runs.shim.result.exited && runs.shim.result.exit_status == shim_exit_status)
      << "expected exit " << shim_exit_status << " under the shim: " << runs.shim.Describe();
  const std::vector<std::string> shim = Lines(runs.shim.Stdout());
  const std::vector<std::string> plain = Lines(runs.plain.Stdout());
  EXPECT_TRUE(shim == plain) << "the output under the shim differs from the output without it ("
                             << runs.dumps_requested
                             << " dumps made): " << FirstDifference(shim, plain) << "\n"
                             << runs.shim.Describe() << "\n"
                             << runs.plain.Describe();
}

// What a report says of a thread whose wait ended while it was being read (TL_MISSING_MOVED,
// worded by StackMissingPhrase in render/phrases.h).
constexpr const char* kLeftItsWait = "it left its wait while it was being read";

void ExpectEveryDumpShows(const TwinRuns& runs, int dumps, const std::string& name, size_t count,
                          const std::string& function) {
  EXPECT_EQ(runs.dumps_requested, dumps) << runs.dump_error << "\n" << runs.shim.Describe();
  EXPECT_EQ(runs.dumps.size(), static_cast<size_t>(dumps))
      << "dumps in the log file; " << runs.report_error;
  // One failure for all dumps, with the first offending dump, rather than one per thread.
  int missing = 0, without_function = 0, moved = 0;
  std::string first_missing, first_without;
  for (size_t i = 0; i < runs.dumps.size(); ++i) {
    const json& dump = runs.dumps[i];
    std::vector<const json*> threads = ThreadsNamed(dump, name);
    if (threads.size() != count) {
      if (missing++ == 0) {
        first_missing = "dump " + std::to_string(i + 1) + " has " + std::to_string(threads.size()) +
                        ":\n" + e2e::Summarize(dump);
      }
    }
    for (const json* thread : threads) {
      if (e2e::StackHasFunction(e2e::Field(*thread, "stack"), function)) continue;
      // A timed wait that ended (its slice ran out) while the dump read it is reported as
      // running, without a stack, and says so: the tool's honest answer to the program's own
      // wake-up, never a signal. Counted apart, and allowed only rarely.
      if (e2e::StringField(*thread, "stack_missing") == kLeftItsWait) {
        ++moved;
        continue;
      }
      if (without_function++ == 0) {
        first_without = "dump " + std::to_string(i + 1) + ": " + thread->dump();
      }
    }
  }
  EXPECT_EQ(missing, 0) << missing << " of " << runs.dumps.size() << " dumps do not show " << count
                        << " threads named \"" << name << "\"; " << first_missing;
  EXPECT_EQ(without_function, 0) << without_function << " threads named \"" << name << "\" in "
                                 << runs.dumps.size() << " dumps lack " << function
                                 << " in their stack; the first: " << first_without;
  EXPECT_LE(moved * 10, dumps) << moved << " of " << dumps << " dumps caught \"" << name
                               << "\" between two waits";
}

void ExpectExitReportLists(const TwinRuns& runs, const std::string& name, size_t count,
                           const std::string& function) {
  ASSERT_TRUE(runs.exit_report.has_value()) << "no exit report; " << runs.report_error << "\n"
                                            << runs.shim.Describe();
  const json& report = *runs.exit_report;
  std::vector<const json*> threads = ThreadsNamed(report, name);
  ASSERT_EQ(threads.size(), count) << e2e::Summarize(report);
  for (const json* thread : threads) {
    EXPECT_EQ(e2e::StringField(*thread, "verdict"), "leaked") << thread->dump();
    if (function.empty()) continue;
    EXPECT_TRUE(e2e::StackHasFunction(e2e::Field(*thread, "stack"), function))
        << "exit report: thread \"" << name << "\" without " << function
        << " in its stack: " << e2e::Field(*thread, "stack").dump();
  }
}

}  // namespace transparency
