// The transparency suite's harness (issue 12, "Observe without interrupting"): a scenario
// program runs twice at the same time — once without the shim, once under it while the harness
// asks for dumps with `threadleak dump PID` — and both are then woken the same way, so that the
// tests can require the same output and exit status from both, and the dumps to show the
// threads under test.
//
// Builds on tests/e2e/support.h (StartProgram, WaitProgram, TempDir, ReadReports). Not
// thread-safe: a test runs one scenario at a time.
#ifndef THREADLEAK_TESTS_TRANSPARENCY_HARNESS_H_
#define THREADLEAK_TESTS_TRANSPARENCY_HARNESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/support.h"

namespace transparency {

using nlohmann::json;

inline constexpr int kDumps = 20;

// How the harness ends the wait, once the dumps are made.
enum class Wake {
  kTrigger,  // one byte to the program's trigger FIFO; the program then wakes its thread
  kSignal,   // Scenario::wake_signal to the process
};

struct Scenario {
  std::string program;  // path of the scenario program
  std::string mode;     // its argv[1]
  // Threads (by name) that must sleep in the kernel before the first dump, so that each dump
  // finds them inside their call.
  std::vector<std::string> asleep;
  Wake wake = Wake::kTrigger;
  int wake_signal = 0;
  int dumps = kDumps;
};

// One run of a scenario program: argv is PROGRAM MODE FIFO; stdout (the result lines) and
// stderr (the program's diagnostics and the tool's messages) go to files of their own.
struct Run {
  std::string name;  // "plain" or "shim", for messages
  std::string stdout_path;
  std::string stderr_path;
  std::string fifo_path;
  pid_t pid = -1;
  e2e::RunResult result;

  std::string Stdout() const;
  std::string Stderr() const;
  std::string Describe() const;  // status, stdout and stderr
};

struct TwinRuns {
  Run plain;                // without the shim; never dumped
  Run shim;                 // under the shim, dumped `Scenario::dumps` times
  std::string setup_error;  // "ready" never printed, or a thread never fell asleep
  int dumps_requested = 0;  // `threadleak dump` calls that succeeded
  std::string dump_error;   // what the first failing call said
  double dump_seconds = 0;  // wall time of all the dump requests
  std::vector<json> dumps;  // the shim run's reports other than "exit"
  std::optional<json> exit_report;
  std::string report_error;
};

// Starts both runs, waits for "ready" and for the `asleep` threads, requests the dumps of the
// shim run one after another (each call waits until its dump is written; the first failure ends
// the series), wakes both runs, and waits for them to end (killing a run that does not within
// 10 s). SysV IPC objects a program announced on stderr ("ipc_cleanup msq|sem ID") are removed.
TwinRuns RunTwins(const e2e::TempDir& dir, const Scenario& scenario);

// Runs `argv` to its end with the shim preloaded (LD_PRELOAD in its environment) and reports as
// JSON Lines in dir/report.PID.
e2e::RunResult RunUnderShim(const e2e::TempDir& dir, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout);

// Threads of `report` whose name is `name`.
std::vector<const json*> ThreadsNamed(const json& report, const std::string& name);

// Lines of `text`, for comparing outputs as lists (gtest prints the difference).
std::vector<std::string> Lines(const std::string& text);

// Checks that the shim run did what the plain run did: both ended through exit, the plain run
// with 0 and the shim run with `shim_exit_status` (0, or the leak status 66 where threads are
// left behind on purpose), and both printed the same lines.
void ExpectSameBehaviour(const TwinRuns& runs, int shim_exit_status = 0);

// Checks that every one of the `Scenario::dumps` dumps was made and shows `count` threads named
// `name`, each with `function` in its stack.
void ExpectEveryDumpShows(const TwinRuns& runs, int dumps, const std::string& name, size_t count,
                          const std::string& function);

// Checks that the exit report exists and lists `count` threads named `name` as leaked, each with
// `function` in its stack (any stack when `function` is empty).
void ExpectExitReportLists(const TwinRuns& runs, const std::string& name, size_t count,
                           const std::string& function);

}  // namespace transparency

#endif  // THREADLEAK_TESTS_TRANSPARENCY_HARNESS_H_
