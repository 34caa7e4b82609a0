// Golden tests of whole reports: golden_program (built at -O2) leaks threads with inlined,
// template, lambda, anonymous-namespace, dlopen()ed and dlclose()d frames; its report is compared
// with golden/golden_program.expected. Then offline symbolization: the same program with
// symbolize=0, piped through threadleak-symbolize, must give the same frames as the direct run —
// with the binaries where they were built, given by --binary, or as debug files in --debug-dir.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.h"

namespace golden {
namespace {

namespace fs = std::filesystem;
using e2e::EnvChanges;
using e2e::RunResult;
using e2e::TempDir;
using nlohmann::json;

constexpr int kLeakExitCode = 66;
const std::string kPrefix = std::string(SOURCE_DIR) + "/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::vector<std::string> ProgramArgv() {
  return {GOLDEN_PROGRAM, GOLDEN_PLUGIN, GOLDEN_DEPARTED, GOLDEN_OTHER};
}

// Runs the golden program under the shim with `options`; returns the report's text.
std::string RunGolden(const TempDir& dir, const std::string& options,
                      const std::vector<std::string>& argv = ProgramArgv()) {
  const EnvChanges env = {
      {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
      {"THREADLEAK_OPTIONS", options + ":log_path=" + dir.path() + "/report"},
  };
  const RunResult run = e2e::RunProgram(argv, env, dir.path() + "/output.txt");
  EXPECT_FALSE(run.timed_out) << run.output;
  EXPECT_EQ(run.Describe(), "exit " + std::to_string(kLeakExitCode)) << run.output;
  const std::vector<std::string> files = e2e::ReportFiles(dir);
  EXPECT_EQ(files.size(), 1u) << run.output;
  return files.empty() ? std::string() : ReadFile(files[0]);
}

// Runs threadleak-symbolize with `args` on `input`; returns its standard output.
std::string RunTool(const TempDir& dir, std::vector<std::string> args, const std::string& input) {
  const std::string input_path = dir.path() + "/tool-input";
  WriteFile(input_path, input);
  args.insert(args.begin(), TOOL);
  args.push_back(input_path);
  const RunResult run = e2e::RunProgram(args, {}, dir.path() + "/tool-output");
  EXPECT_EQ(run.Describe(), "exit 0") << run.output;
  return run.output;
}

// The part of a text report the golden file pins down, independent of tids, addresses, timings
// and of the C and C++ runtimes' own frames: per thread (sorted by name), the function on top,
// the frames in the golden sources, the creating function and its frames in the golden sources.
std::string Normalize(const std::string& text) {
  static const std::regex kHeader(
      R"re(^\[Thread \d+ "([^"]*)".*?(?:, with (.*) on top of the stack)?:$)re");
  static const std::regex kFrame(R"re(^    #\d+ (.*)$)re");
  static const std::regex kCreated(R"re(^ created by (?:(.*) in )?thread .*:$)re");
  std::map<std::string, std::string> blocks;
  std::string name;
  std::string block;
  std::istringstream lines(text);
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, kHeader)) {
      name = match[1];
      block = "thread \"" + name + "\": top " + match[2].str() + "\n";
    } else if (std::regex_match(line, match, kFrame)) {
      if (match[1].str().find(" at tests/symbolizer/golden/") != std::string::npos) {
        block += "    " + match[1].str() + "\n";
      }
    } else if (std::regex_match(line, match, kCreated)) {
      block += " created by " + match[1].str() + "\n";
    } else if (line == "]" && !name.empty()) {
      blocks[name] = block;
      name.clear();
    }
  }
  std::string out;
  for (const auto& [thread, lines_of] : blocks) out += lines_of;
  return out;
}

// Per thread name, its two stacks as (function, file, line, inlined) lines.
std::map<std::string, std::string> Frames(const json& report) {
  std::map<std::string, std::string> threads;
  for (const json& thread : report["threads"]) {
    std::string out;
    for (const char* which : {"stack", "created_by"}) {
      const json& stack =
          std::string(which) == "stack" ? thread["stack"] : thread["created_by"]["stack"];
      out += std::string(which) + ":\n";
      for (const json& frame : stack) {
        out += "  " + frame["function"].get<std::string>() + " at " +
               (frame["file"].is_null() ? "?" : frame["file"].get<std::string>()) + ":" +
               (frame["line"].is_null() ? "?" : std::to_string(frame["line"].get<int>())) +
               (frame.value("inlined", false) ? " (inlined)" : "") + "\n";
      }
    }
    threads[thread["name"].get<std::string>()] = out;
  }
  return threads;
}

json ParseReport(const std::string& text) {
  json report = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(report.is_object()) << text;
  return report;
}

TEST(GoldenTest, TextReportMatchesTheGoldenFile) {
  TempDir dir;
  const std::string report = RunGolden(dir, "format=text:strip_path_prefix=" + kPrefix);
  const std::string expected = ReadFile(GOLDEN_EXPECTED);
  ASSERT_FALSE(expected.empty()) << GOLDEN_EXPECTED;
  EXPECT_EQ(Normalize(report), expected) << report;
}

TEST(GoldenTest, JsonFramesCarryWhatOfflineSymbolizationNeeds) {
  TempDir dir;
  const json report = ParseReport(RunGolden(dir, "format=json"));
  ASSERT_EQ(report["threads"].size(), 6u) << report.dump(1);
  size_t inlined = 0;
  for (const json& thread : report["threads"]) {
    for (const json& frame : thread["stack"]) {
      if (frame["module"] == "??") continue;
      EXPECT_TRUE(frame["build_id"].is_string()) << frame;
      EXPECT_TRUE(frame["offset"].is_string()) << frame;
      inlined += frame.value("inlined", false);
    }
  }
  EXPECT_GT(inlined, 0u);
  // The departed library's frame, named from its file although it is gone and another library
  // was loaded after it.
  for (const json& thread : report["threads"]) {
    if (thread["name"] != "departed") continue;
    const json* launch = e2e::FindFrame(thread["created_by"]["stack"], "departed_ns::Launch");
    ASSERT_NE(launch, nullptr) << thread.dump(1);
    EXPECT_TRUE((*launch)["module"].get<std::string>().ends_with("golden_departed.so"));
    EXPECT_TRUE((*launch)["file"].get<std::string>().ends_with("golden/golden_departed.cc"));
  }
}

TEST(GoldenTest, KeepsMangledNamesWhenAsked) {
  TempDir dir;
  const std::string report = RunGolden(dir, "format=text:demangle=0");
  EXPECT_NE(report.find("_ZN6golden4ParkEPKc"), std::string::npos) << report;
  EXPECT_EQ(report.find("golden::Park(char const*)"), std::string::npos) << report;
}

// A program started through a symlink, and libraries loaded through symlinks, are named by the
// links, as the process loaded them, not by the files they point to (Debian's redis-server is a
// link to redis-check-rdb; frames said redis-check-rdb). Their frames are named all the same.
TEST(GoldenTest, ModulesAreNamedByThePathsTheyWereLoadedBy) {
  TempDir dir;
  const std::vector<std::string> links = {dir.path() + "/program-link", dir.path() + "/plugin.so",
                                          dir.path() + "/departed.so", dir.path() + "/other.so"};
  const std::vector<std::string> targets = ProgramArgv();
  for (size_t i = 0; i < links.size(); ++i) fs::create_symlink(targets[i], links[i]);
  const json report = ParseReport(RunGolden(dir, "format=json", links));
  std::map<std::string, size_t> named;  // frames with a function, by module
  for (const json& thread : report["threads"]) {
    for (const json* stack : {&thread["stack"], &thread["created_by"]["stack"]}) {
      for (const json& frame : *stack) {
        const std::string module = frame["module"];
        for (const std::string& target : targets) EXPECT_NE(module, target) << frame;
        if (frame["function"] != "??") ++named[module];
      }
    }
  }
  EXPECT_GT(named[links[0]], 0u) << report.dump(1);
  EXPECT_GT(named[links[1]], 0u) << report.dump(1);
  EXPECT_GT(named[links[2]], 0u) << report.dump(1);  // departed: the creation stack
}

class OfflineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    direct_ = ParseReport(RunGolden(direct_dir_, "format=json"));
    raw_text_ = RunGolden(raw_dir_, "format=json:symbolize=0");
    const json raw = ParseReport(raw_text_);
    for (const json& thread : raw["threads"]) {
      for (const json& frame : thread["stack"]) {
        ASSERT_EQ(frame["function"], "??") << frame;
        ASSERT_TRUE(frame["file"].is_null()) << frame;
      }
    }
  }

  // The raw report with the golden modules' paths replaced by `replacement` + file name: as if
  // it came from another host.
  std::string Relocated(const std::string& replacement) const {
    json raw = ParseReport(raw_text_);
    auto relocate = [&](json& stack) {
      for (json& frame : stack) {
        const std::string module = frame["module"];
        if (module.find("/tests/symbolizer/") != std::string::npos) {
          frame["module"] = replacement + fs::path(module).filename().string();
        }
      }
    };
    for (json& thread : raw["threads"]) {
      relocate(thread["stack"]);
      relocate(thread["created_by"]["stack"]);
    }
    return raw.dump() + "\n";
  }

  void ExpectSameFrames(const std::string& offline) {
    const json report = ParseReport(offline);
    EXPECT_EQ(Frames(report), Frames(direct_));
  }

  TempDir direct_dir_;
  TempDir raw_dir_;
  TempDir tool_dir_;
  json direct_;
  std::string raw_text_;
};

TEST_F(OfflineTest, RawThenOfflineEqualsDirect) {
  ExpectSameFrames(RunTool(tool_dir_, {}, raw_text_));
}

TEST_F(OfflineTest, TextMatchesTheGoldenFileToo) {
  const std::string text =
      RunTool(tool_dir_, {"--format", "text", "--strip-path-prefix", kPrefix}, raw_text_);
  EXPECT_EQ(Normalize(text), ReadFile(GOLDEN_EXPECTED)) << text;
}

TEST_F(OfflineTest, LinesThatAreNotReportsPassThrough) {
  const std::string out = RunTool(tool_dir_, {}, "hello\n" + raw_text_ + "{\"other\":1}\n");
  EXPECT_TRUE(out.starts_with("hello\n")) << out;
  EXPECT_TRUE(out.ends_with("{\"other\":1}\n")) << out;
}

TEST_F(OfflineTest, BinariesGivenOnTheCommandLine) {
  ExpectSameFrames(
      RunTool(tool_dir_,
              {"--binary", GOLDEN_PROGRAM, "--binary", GOLDEN_PLUGIN, "--binary", GOLDEN_DEPARTED},
              Relocated("/nonexistent/")));
}

// Only debug files, laid out by build-id as in /usr/lib/debug: enough to name every frame.
TEST_F(OfflineTest, DebugDirectoryByBuildId) {
  const std::string debug_dir = tool_dir_.path() + "/debug";
  for (const char* binary : {GOLDEN_PROGRAM, GOLDEN_PLUGIN, GOLDEN_DEPARTED}) {
    const RunResult id = e2e::RunProgram({READELF, "-n", binary}, {}, tool_dir_.path() + "/id");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(id.output, match, std::regex("Build ID: ([0-9a-f]+)")))
        << id.output;
    const std::string hex = match[1];
    const std::string target =
        debug_dir + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    fs::create_directories(fs::path(target).parent_path());
    const RunResult copy = e2e::RunProgram({OBJCOPY, "--only-keep-debug", binary, target}, {},
                                           tool_dir_.path() + "/objcopy");
    ASSERT_EQ(copy.Describe(), "exit 0") << copy.output;
  }
  ExpectSameFrames(RunTool(tool_dir_, {"--debug-dir", debug_dir}, Relocated("/nonexistent/")));
}

// Without the files, frames stay as they came: module, build-id and offset.
TEST_F(OfflineTest, MissingModulesStayRaw) {
  const json report = ParseReport(RunTool(tool_dir_, {}, Relocated("/nonexistent/")));
  bool any_raw = false;
  for (const json& thread : report["threads"]) {
    for (const json& frame : thread["stack"]) {
      if (frame["module"].get<std::string>().starts_with("/nonexistent/")) {
        EXPECT_EQ(frame["function"], "??");
        EXPECT_TRUE(frame["offset"].is_string());
        EXPECT_TRUE(frame["build_id"].is_string());
        any_raw = true;
      }
    }
  }
  EXPECT_TRUE(any_raw);
}

}  // namespace
}  // namespace golden
