#include "tests/report_tool/report_tool_checks.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace report_tool_test {

std::optional<std::string> Which(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return access(program.c_str(), X_OK) == 0 ? std::optional<std::string>(program) : std::nullopt;
  }
  const char* path = getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

e2e::RunResult RunTool(const std::vector<std::string>& argv, const e2e::TempDir& dir,
                       const std::string& log_name, std::chrono::milliseconds timeout) {
  std::vector<std::string> resolved = argv;
  if (std::optional<std::string> found = Which(argv[0])) resolved[0] = *found;
  const e2e::EnvChanges env = {{"LD_PRELOAD", std::nullopt}, {"THREADLEAK_OPTIONS", std::nullopt}};
  return e2e::RunProgram(resolved, env, dir.path() + "/" + log_name, timeout);
}

e2e::RunResult RunReport(const std::vector<std::string>& args, const e2e::TempDir& dir) {
  std::vector<std::string> argv = {RT_WRAPPER, "report"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTool(argv, dir, "report-tool.txt");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void KeepArtifact(const std::string& path, const std::string& name) {
  std::error_code ignored;
  std::filesystem::create_directories(RT_ARTIFACTS, ignored);
  std::filesystem::copy_file(path, std::string(RT_ARTIFACTS) + "/" + name,
                             std::filesystem::copy_options::overwrite_existing, ignored);
}

}  // namespace report_tool_test
