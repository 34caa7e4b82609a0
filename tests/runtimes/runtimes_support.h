// Running a program of this suite with and without the shim, and reading what the report says.
// Not thread-safe: one test runs one program at a time.
#ifndef THREADLEAK_TESTS_RUNTIMES_RUNTIMES_SUPPORT_H_
#define THREADLEAK_TESTS_RUNTIMES_RUNTIMES_SUPPORT_H_

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/support.h"

namespace runtimes {

using nlohmann::json;

struct Outcome {
  e2e::RunResult run;
  std::optional<json> report;  // nullopt when no report was written
};

// Runs argv under the shim (and `also_preload`, after it) with JSON reports into `dir`, plus
// `options` and `env`.
inline Outcome RunUnderShim(const std::vector<std::string>& argv, const e2e::TempDir& dir,
                            const std::string& options = "", e2e::EnvChanges env = {},
                            const std::string& also_preload = "") {
  env["LD_PRELOAD"] =
      std::string(THREADLEAK_SHIM_PATH) + (also_preload.empty() ? "" : ":" + also_preload);
  env["THREADLEAK_OPTIONS"] =
      "format=json:log_path=" + dir.path() + "/report" + (options.empty() ? "" : ":" + options);
  Outcome outcome;
  outcome.run = e2e::RunProgram(argv, env, dir.path() + "/output.txt");
  std::string error;
  if (auto report = e2e::ReadReport(e2e::ReportPath(dir, outcome.run.pid), &error)) {
    outcome.report = *report;
  }
  return outcome;
}

// The same program without the tool (`preload` alone, if any), for comparison.
inline e2e::RunResult RunWithoutShim(const std::vector<std::string>& argv, const e2e::TempDir& dir,
                                     e2e::EnvChanges env = {}, const std::string& preload = "") {
  env["LD_PRELOAD"] = preload.empty() ? std::nullopt : std::optional<std::string>(preload);
  env["THREADLEAK_OPTIONS"] = std::nullopt;
  return e2e::RunProgram(argv, env, dir.path() + "/plain.txt");
}

// The threads a report counts as leaked (not suppressed).
inline std::vector<json> Leaked(const json& report) {
  std::vector<json> leaked;
  for (const json& thread : e2e::Field(report, "threads")) {
    if (e2e::StringField(thread, "verdict") != "ignored") leaked.push_back(thread);
  }
  return leaked;
}

// The full path of `name` found in PATH, or "".
inline std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace runtimes

#endif  // THREADLEAK_TESTS_RUNTIMES_RUNTIMES_SUPPORT_H_
