#include "tests/reliability/harness.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <sstream>

namespace reliability {

std::string ScenarioRun::Describe() const {
  std::ostringstream out;
  out << result.Describe() << " after " << seconds << " s; output:\n" << output;
  return out.str();
}

ScenarioRun RunScenario(const e2e::TempDir& dir, const std::vector<std::string>& argv,
                        const RunOptions& options) {
  e2e::EnvChanges env = options.env;
  if (options.preload) {
    env["LD_PRELOAD"] =
        options.preload_value.empty() ? std::string(THREADLEAK_SHIM_PATH) : options.preload_value;
  } else {
    env["LD_PRELOAD"] = std::nullopt;
  }
  std::string threadleak_options;
  auto add = [&](const std::string& entry) {
    if (entry.empty()) return;
    threadleak_options += (threadleak_options.empty() ? "" : ":") + entry;
  };
  if (options.json_to_files) add("format=json:log_path=" + dir.path() + "/report");
  if (options.linger_ms >= 0) add("linger_ms=" + std::to_string(options.linger_ms));
  add(options.options);
  if (env.count("THREADLEAK_OPTIONS") == 0) env["THREADLEAK_OPTIONS"] = threadleak_options;

  std::vector<std::string> command = argv;
  if (options.as_nobody) {
    command = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
               "/usr/bin/env"};
    for (const char* name : {"LD_PRELOAD", "THREADLEAK_OPTIONS"}) {
      const std::optional<std::string>& value = env[name];
      if (value) {
        command.push_back(std::string(name) + "=" + *value);
      } else {
        command.insert(command.end(), {"-u", name});
      }
      env[name] = std::nullopt;
    }
    command.insert(command.end(), argv.begin(), argv.end());
  }

  ScenarioRun run;
  const auto start = std::chrono::steady_clock::now();
  run.result = e2e::RunProgram(command, env, dir.path() + "/output.txt", options.timeout);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.output = run.result.output;
  return run;
}

std::optional<json> ReportOf(const e2e::TempDir& dir, int pid, std::string* error) {
  return e2e::ReadReport(e2e::ReportPath(dir, pid), error);
}

json OnlyReport(const e2e::TempDir& dir, const ScenarioRun& run) {
  std::string error;
  auto report = ReportOf(dir, run.result.pid, &error);
  EXPECT_TRUE(report.has_value()) << error << "\n" << run.Describe();
  return report.value_or(json::object());
}

std::vector<json> ReportLinesIn(const std::string& text) {
  std::vector<json> reports;
  for (const std::string& line : LinesStartingWith(text, "{\"tool\":\"threadleak\"")) {
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) reports.push_back(std::move(parsed));
  }
  return reports;
}

std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  }
  return lines;
}

bool StackHasModule(const json& stack, const std::string& needle) {
  if (!stack.is_array()) return false;
  for (const json& frame : stack) {
    if (e2e::StringField(frame, "module").find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string PrintedValue(const std::string& output, const std::string& key) {
  std::string value;
  for (const std::string& line : LinesStartingWith(output, key + "=")) {
    value = line.substr(key.size() + 1);
  }
  return value;
}

bool NobodyCanExecute(const std::string& path) {
  if (access("/usr/bin/setpriv", X_OK) != 0 || geteuid() != 0) return false;
  e2e::TempDir dir;
  ScenarioRun probe = RunScenario(dir, {"/bin/sh", "-c", "test -x \"$0\"", path},
                                  {.preload = false, .as_nobody = true});
  return probe.ExitedWith(0);
}

}  // namespace reliability
