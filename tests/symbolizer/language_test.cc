// Reports of programs in other languages, run under the shim: names as people read them and
// lines where the languages' own tools put them.
//
// Rust (programs/leak.rs, built by Debian's rustc with its legacy mangling and with v0): the
// leaked thread's header names the program's Consumer<T>::run, not the standard library's futex
// wait, and no frame keeps a mangled name, a "$LT$"-style escape or a "::h<hash>".
//
// Go with cgo (programs/cgo_leak): every frame in the Go binary that `go tool addr2line` knows has
// its file:line — a line is taken only from a compilation unit whose ranges hold the address.
//
// A test whose compiler is not installed is skipped (scripts/setup.sh installs both).
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.h"

namespace language {
namespace {

using e2e::EnvChanges;
using e2e::RunResult;
using e2e::TempDir;
using nlohmann::json;

constexpr int kLeakExitCode = 66;
constexpr int kTimeLimitExitCode = 124;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `program` under the shim with `options`; returns its one report file's text.
std::string RunUnderShim(const std::string& program, const TempDir& dir, const std::string& options,
                         int expected_status) {
  const EnvChanges env = {
      {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
      {"THREADLEAK_OPTIONS", options + ":log_path=" + dir.path() + "/report"},
  };
  const RunResult run = e2e::RunProgram({program}, env, dir.path() + "/output.txt");
  EXPECT_EQ(run.Describe(), "exit " + std::to_string(expected_status)) << run.output;
  const std::vector<std::string> files = e2e::ReportFiles(dir);
  EXPECT_EQ(files.size(), 1u) << run.output;
  return files.empty() ? std::string() : ReadFile(files[0]);
}

// The report's "[Thread …" header line of the thread named `name`.
std::string HeaderOf(const std::string& report, const std::string& name) {
  std::istringstream lines(report);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("[Thread ") && line.find(" \"" + name + "\" ") != std::string::npos) {
      return line;
    }
  }
  return "";
}

// What a demangled Rust name never shows: legacy escapes and hashes, v0 or legacy mangled names.
void ExpectNoManglingLeft(const std::string& report) {
  static const std::regex kLeftovers(
      R"re(\$(LT|GT|u7b|u7d|u20|C|RF)\$|::h[0-9a-f]{16}\b|\b_R[A-Z]|\b_ZN)re");
  std::smatch match;
  EXPECT_FALSE(std::regex_search(report, match, kLeftovers))
      << "found \"" << match.str() << "\" in:\n"
      << report;
}

TEST(RustTest, LegacyNamesReadAsWritten) {
  if (std::string(RUST_LEAK_LEGACY).empty()) GTEST_SKIP() << "Debian's rustc is not installed";
  TempDir dir;
  const std::string report = RunUnderShim(RUST_LEAK_LEGACY, dir, "format=text", kLeakExitCode);
  EXPECT_NE(HeaderOf(report, "consumer").find(", with leak::Consumer<T>::run on top of the stack:"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find(" leak::Consumer<T>::run at "), std::string::npos) << report;
  ExpectNoManglingLeft(report);
}

TEST(RustTest, V0NamesAreDemangled) {
  if (std::string(RUST_LEAK_V0).empty()) GTEST_SKIP() << "Debian's rustc is not installed";
  TempDir dir;
  const std::string report = RunUnderShim(RUST_LEAK_V0, dir, "format=text", kLeakExitCode);
  EXPECT_NE(
      HeaderOf(report, "consumer").find(", with <leak::Consumer<u32>>::run on top of the stack:"),
      std::string::npos)
      << report;
  ExpectNoManglingLeft(report);
}

// `go tool addr2line`'s answers for `addresses` in `binary`: "function\nfile:line" each.
std::vector<std::string> GoAddr2line(const std::string& binary,
                                     const std::vector<uint64_t>& addresses, const TempDir& dir) {
  std::string input;
  for (uint64_t address : addresses) {
    char hex[32];
    snprintf(hex, sizeof hex, "0x%llx\n", static_cast<unsigned long long>(address));
    input += hex;
  }
  const std::string input_path = dir.path() + "/addresses";
  std::ofstream(input_path) << input;
  const EnvChanges env = {{"GOCACHE", GO_CACHE}, {"GOFLAGS", "-buildvcs=false"}};
  const RunResult run =
      e2e::RunProgram({"/bin/sh", "-c", std::string(GO_TOOL) + " tool addr2line \"$0\" < \"$1\"",
                       binary, input_path},
                      env, dir.path() + "/addr2line-output");
  EXPECT_EQ(run.Describe(), "exit 0") << run.output;
  std::vector<std::string> lines;
  std::istringstream in(run.output);
  std::string function;
  std::string location;
  while (std::getline(in, function) && std::getline(in, location)) lines.push_back(location);
  return lines;
}

TEST(GoTest, AGoProgramIsDeclaredUncheckedAtExitOnce) {
  if (std::string(GO_CGO_LEAK).empty()) GTEST_SKIP() << "Go is not installed";
  TempDir dir;
  const RunResult bare = e2e::RunProgram({GO_CGO_LEAK, "100ms"}, {}, dir.path() + "/bare.txt");
  const RunResult run = e2e::RunProgram(
      {GO_CGO_LEAK, "100ms"}, {{"LD_PRELOAD", THREADLEAK_SHIM_PATH}}, dir.path() + "/output.txt");
  EXPECT_EQ(bare.Describe(), "exit 0") << bare.output;
  EXPECT_EQ(run.Describe(), bare.Describe()) << run.output;
  size_t said = 0;
  for (size_t at = run.output.find("threadleak: "); at != std::string::npos;
       at = run.output.find("threadleak: ", at + 1)) {
    ++said;
  }
  EXPECT_EQ(said, 1u) << run.output;
  EXPECT_NE(run.output.find("not checked at exit"), std::string::npos) << run.output;
}

TEST(GoTest, FramesCarryTheLinesGoToolAddr2lineGives) {
  if (std::string(GO_CGO_LEAK).empty()) GTEST_SKIP() << "Go is not installed";
  TempDir dir;
  // Go's runtime ends the process without libc's exit: the time limit's dump is the report.
  const std::string text =
      RunUnderShim(GO_CGO_LEAK, dir, "format=json:timeout_ms=1000", kTimeLimitExitCode);
  const json report = json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << text;

  // Per pc of the program (an inlined call and its callers share one), the innermost frame: its
  // file:line is the address's own, which is what addr2line gives.
  struct Looked {
    uint64_t address;
    std::string function;
    std::string location;
  };
  std::vector<Looked> frames;
  std::set<uint64_t> seen;
  bool parked = false;
  for (const json& thread : report["threads"]) {
    for (const json* stack : {&thread["stack"], &thread["created_by"]["stack"]}) {
      std::string previous_pc;
      for (const json& frame : *stack) {
        const std::string pc = frame["pc"];
        const bool same_pc = pc == previous_pc;
        previous_pc = pc;
        if (same_pc || frame["module"] != GO_CGO_LEAK || !frame["offset"].is_string()) continue;
        // Return addresses are looked up at the call, one byte before.
        uint64_t address = std::stoull(frame["offset"].get<std::string>(), nullptr, 16);
        if (!frame.value("interrupted", false)) --address;
        if (!seen.insert(address).second) continue;
        const std::string file = frame["file"].is_string() ? frame["file"].get<std::string>() : "?";
        const std::string line =
            frame["line"].is_number() ? std::to_string(frame["line"].get<int>()) : "0";
        frames.push_back({address, frame["function"], file + ":" + line});
        if (frame["function"] == "Park" && file.ends_with("cgo_leak/main.go")) parked = true;
      }
    }
  }
  EXPECT_TRUE(parked) << "the C thread's Park frame, in main.go's cgo preamble:\n" << text;

  std::vector<uint64_t> addresses;
  for (const Looked& frame : frames) addresses.push_back(frame.address);
  const std::vector<std::string> expected = GoAddr2line(GO_CGO_LEAK, addresses, dir);
  ASSERT_EQ(expected.size(), frames.size());
  size_t compared = 0;
  size_t runtime = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (expected[i] == "?:0") continue;  // C code: Go's tables do not cover it
    // libdw joins a relative name to the unit's directory, "." for Go's generated code.
    std::string location = frames[i].location;
    if (location.starts_with("./")) location.erase(0, 2);
    EXPECT_EQ(location, expected[i])
        << frames[i].function << " at 0x" << std::hex << frames[i].address;
    ++compared;
    runtime += frames[i].function.starts_with("runtime.");
  }
  EXPECT_GE(compared, 10u) << text;
  EXPECT_GE(runtime, 5u) << text;
}

}  // namespace
}  // namespace language
