// Support for the end-to-end tests: run a program in its own process with a deadline, read the
// JSON report threadleak leaves, look for a function in a reported stack.
//
// Not thread-safe (a test runs one program at a time); nothing here touches the test process's
// own environment.
#ifndef THREADLEAK_TESTS_E2E_SUPPORT_H_
#define THREADLEAK_TESTS_E2E_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace e2e {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Environment changes for a child: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

struct RunResult {
  pid_t pid = -1;
  bool timed_out = false;  // killed (with its process group) after the deadline
  bool exited = false;     // ended through exit; exit_status is valid
  int exit_status = -1;
  int signal = 0;            // the signal that ended it, when it did not exit
  bool core_dumped = false;  // and the kernel wrote a core dump then
  std::string output;        // its stdout and stderr, interleaved

  // "exit 66", "signal 6", "timed out", for messages.
  std::string Describe() const;
};

// Runs argv[0] (a path) with argv, the test's environment changed by `env`, stdout and stderr
// into `output_path`, in a process group of its own. Waits at most `timeout`, then kills the
// group: a hang is a failure, never a reason to wait for the test runner's timeout.
RunResult RunProgram(const std::vector<std::string>& argv, const EnvChanges& env,
                     const std::string& output_path,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

// RunProgram in two halves, for tests that act on the program while it runs: StartProgram
// spawns it (in its own process group, output to `output_path`); WaitProgram waits for it with
// the same deadline rule.
pid_t StartProgram(const std::vector<std::string>& argv, const EnvChanges& env,
                   const std::string& output_path);
RunResult WaitProgram(pid_t pid, const std::string& output_path,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs argv with LD_PRELOAD=`shim` and THREADLEAK_OPTIONS=format=json:log_path=DIR/report.
RunResult RunUnderShim(const std::string& shim, const std::vector<std::string>& argv,
                       const TempDir& dir);

// DIR/report.PID, where the shim writes the report of process PID.
std::string ReportPath(const TempDir& dir, pid_t pid);

// The report files (DIR/report.*) in `dir`, sorted.
std::vector<std::string> ReportFiles(const TempDir& dir);

// Parses a report file: one JSON object on one line. nullopt with *error set if the file is
// missing, empty, not one line or not JSON.
std::optional<nlohmann::json> ReadReport(const std::string& path, std::string* error);

// Every report of a JSON Lines file (dumps append one line each). Empty with *error set if the
// file is missing, empty, or a line is not JSON.
std::vector<nlohmann::json> ReadReports(const std::string& path, std::string* error);

// obj[key] if obj is an object whose key holds a string, else "" (never throws).
std::string StringField(const nlohmann::json& obj, const char* key);

// obj[key] if obj is an object that has key, else a null value (never throws). The reference
// lives as long as `obj`.
const nlohmann::json& Field(const nlohmann::json& obj, const char* key);

// Whether a frame of `stack` (a JSON array of frames) has `needle` in its "function".
bool StackHasFunction(const nlohmann::json& stack, std::string_view needle);

// The first frame of `stack` whose function contains `needle`, or nullptr.
const nlohmann::json* FindFrame(const nlohmann::json& stack, std::string_view needle);

// One line per reported thread (tid, name, state, functions of both stacks), for messages.
std::string Summarize(const nlohmann::json& report);

// The whole file (binary), or "" when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// Calls `done` every 10 ms until it returns true (true) or `limit` passed (false).
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace e2e

#endif  // THREADLEAK_TESTS_E2E_SUPPORT_H_
