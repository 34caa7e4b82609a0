// Shared by the reliability suites: run a scenario program under the shim (or without it) with a
// deadline, and read what threadleak left behind — report files, or JSON report lines and
// warnings on the program's stderr.
//
// Builds on tests/e2e/support.h (RunProgram, TempDir, ReadReport). Not thread-safe: a test runs
// one program at a time.
#ifndef THREADLEAK_TESTS_RELIABILITY_HARNESS_H_
#define THREADLEAK_TESTS_RELIABILITY_HARNESS_H_

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/support.h"

namespace reliability {

using nlohmann::json;

inline constexpr int kLeakExitCode = 66;  // the shim's default exitcode

struct ScenarioRun {
  e2e::RunResult result;
  std::string output;  // stdout and stderr, interleaved
  double seconds = 0;  // wall time of the run

  bool ExitedWith(int status) const { return result.exited && result.exit_status == status; }
  std::string Describe() const;  // status, time and output, for failure messages
};

struct RunOptions {
  bool preload = true;        // LD_PRELOAD=the shim
  std::string preload_value;  // overrides the LD_PRELOAD value when non-empty
  bool json_to_files = true;  // format=json:log_path=DIR/report
  std::string options;        // appended to THREADLEAK_OPTIONS (after the defaults above)
  int linger_ms = 50;         // keeps the suite fast; -1 leaves the shim's default
  e2e::EnvChanges env;        // more changes to the child's environment
  bool as_nobody = false;     // run as the user nobody (see NobodyCanExecute)
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
};

// Runs argv in its own process group with the shim preloaded (unless told otherwise). Reports go
// to dir/report.PID as JSON Lines; the program's output to dir/output.txt. With as_nobody,
// setpriv(1) drops to nobody first and env(1) then sets LD_PRELOAD and THREADLEAK_OPTIONS, so
// the shim is never in the process that changes credentials.
ScenarioRun RunScenario(const e2e::TempDir& dir, const std::vector<std::string>& argv,
                        const RunOptions& options = {});

// The report of process `pid` in dir (one JSON line), or nullopt with *error set.
std::optional<json> ReportOf(const e2e::TempDir& dir, int pid, std::string* error);

// The report of `run` (one JSON line in dir), or an empty object after a test failure.
json OnlyReport(const e2e::TempDir& dir, const ScenarioRun& run);

// The report objects written as lines of `text` (a report that fell back to stderr).
std::vector<json> ReportLinesIn(const std::string& text);

// Lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix);

// Whether any frame of `stack` lies in a module whose path contains `needle`.
bool StackHasModule(const json& stack, const std::string& needle);

// The value printed by the program as "KEY=VALUE" on a line of its own (last one wins), or "".
std::string PrintedValue(const std::string& output, const std::string& key);

using e2e::ReadWholeFile;

// Whether this process may drop privileges to `nobody` (root, setpriv present) and `path` is
// executable by nobody (a build tree in a private home directory is not).
bool NobodyCanExecute(const std::string& path);

}  // namespace reliability

#endif  // THREADLEAK_TESTS_RELIABILITY_HARNESS_H_
