// Helpers for report_tool_test: running the tool and the external checkers, reading files.
#ifndef THREADLEAK_TESTS_REPORT_TOOL_REPORT_TOOL_CHECKS_H_
#define THREADLEAK_TESTS_REPORT_TOOL_REPORT_TOOL_CHECKS_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/support.h"

namespace report_tool_test {

// The full path of `program` found in PATH (or as given, if it has a slash and is executable),
// or nullopt.
std::optional<std::string> Which(const std::string& program);

// Runs argv (argv[0] is looked up in PATH) without the shim and without THREADLEAK_OPTIONS, its
// stdout and stderr into `dir`/`log_name`.
e2e::RunResult RunTool(const std::vector<std::string>& argv, const e2e::TempDir& dir,
                       const std::string& log_name = "tool.txt",
                       std::chrono::milliseconds timeout = std::chrono::seconds(120));

// `threadleak report ARGS...` through the wrapper.
e2e::RunResult RunReport(const std::vector<std::string>& args, const e2e::TempDir& dir);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);

// Lines of `text`, without their '\n'.
std::vector<std::string> Lines(const std::string& text);

// How many times `needle` occurs in `text`.
size_t Count(const std::string& text, const std::string& needle);

// Keeps a copy of `path` in the build tree's artifacts folder (for people to look at).
void KeepArtifact(const std::string& path, const std::string& name);

}  // namespace report_tool_test

#endif  // THREADLEAK_TESTS_REPORT_TOOL_REPORT_TOOL_CHECKS_H_
