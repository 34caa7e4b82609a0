// End-to-end: install this build into a temporary prefix, then use it as a user would — the
// pkg-config file, and examples/gtest_project configured with find_package(threadleak), built
// and run with CTest in each of its three ways of running tests under the shim. The example's
// heartbeat test must fail exactly when JOBS_EXAMPLE_LEAK=1, and the log's long-lived flusher
// never (threadleak.supp suppresses it).
//
// One test: installing and building take most of its time, and every step needs the one before.
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/support.h"

namespace e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// Nothing of the test's own environment that would change how the tools run: the shim (a CI job
// may run ctest under threadleak), options, an outer make's jobserver, a staging DESTDIR.
EnvChanges CleanEnvironment() {
  EnvChanges env;
  for (const char* name :
       {"LD_PRELOAD", "THREADLEAK_OPTIONS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DESTDIR",
        "JOBS_EXAMPLE_LEAK", "CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH", "CTEST_PARALLEL_LEVEL"}) {
    env[name] = std::nullopt;
  }
  return env;
}

class Step {
 public:
  explicit Step(const TempDir& dir) : dir_(dir) {}

  // Runs a tool; a failure shows its output.
  RunResult Run(const std::vector<std::string>& argv, const EnvChanges& extra = {},
                std::chrono::milliseconds timeout = 120s) {
    EnvChanges env = CleanEnvironment();
    for (const auto& [name, value] : extra) env[name] = value;
    return RunProgram(argv, env, dir_.path() + "/step" + std::to_string(++count_) + ".txt",
                      timeout);
  }

 private:
  const TempDir& dir_;
  int count_ = 0;
};

bool Succeeded(const RunResult& run) {
  return run.exited && run.exit_status == 0;
}

// The names CTest lists under "The following tests FAILED:".
std::set<std::string> FailedTests(const std::string& output) {
  std::set<std::string> failed;
  size_t start = output.find("The following tests FAILED:");
  if (start == std::string::npos) return failed;
  std::istringstream lines(output.substr(start));
  std::string line;
  static const std::regex kFailedLine(R"(^\s*\d+ - (\S+) \(.*\)\s*$)");
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, kFailedLine)) failed.insert(match[1]);
  }
  return failed;
}

// "... tests failed out of N" -> N, or -1.
int TestsRun(const std::string& output) {
  static const std::regex kSummary(R"(tests failed out of (\d+))");
  std::smatch match;
  return std::regex_search(output, match, kSummary) ? std::stoi(match[1]) : -1;
}

// The reports with leaks (suppressed threads do not count) among the JSON report files of
// `dir`, one file per test process that wrote any.
std::vector<json> LeakReports(const std::string& dir, std::string* error) {
  std::vector<json> leaks;
  if (!fs::exists(dir)) return leaks;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    for (json& report : ReadReports(entry.path().string(), error)) {
      const json& count = Field(report, "leaks");
      if (count.is_number() && count.get<int>() > 0) leaks.push_back(std::move(report));
    }
  }
  return leaks;
}

TEST(Package, InstalledPackageRunsTheExampleProject) {
  TempDir dir;
  Step step(dir);
  const std::string prefix = dir.path() + "/prefix";
  const std::string build = dir.path() + "/build";

  RunResult install = step.Run({API_CMAKE, "--install", API_BUILD_DIR, "--prefix", prefix});
  ASSERT_TRUE(Succeeded(install)) << install.Describe() << "\n" << install.output;
  const std::string shim = prefix + "/" API_INSTALL_LIBDIR "/threadleak/libthreadleak.so";
  ASSERT_TRUE(fs::exists(shim)) << install.output;

  // pkg-config: the shim's path and the include directory, absolute, for this prefix.
  const EnvChanges pc_env = {{"PKG_CONFIG_PATH", prefix + "/" API_INSTALL_LIBDIR "/pkgconfig"}};
  RunResult pc_shim = step.Run({API_PKG_CONFIG, "--variable=shim", "threadleak"}, pc_env);
  ASSERT_TRUE(Succeeded(pc_shim)) << pc_shim.Describe() << "\n" << pc_shim.output;
  EXPECT_EQ(pc_shim.output, shim + "\n");
  RunResult pc_cflags = step.Run({API_PKG_CONFIG, "--cflags", "threadleak"}, pc_env);
  // (pkg-config ends the line with a blank.)
  EXPECT_EQ(pc_cflags.output.substr(0, pc_cflags.output.find_last_not_of(" \n") + 1),
            "-I" + prefix + "/" API_INSTALL_INCLUDEDIR);

  std::vector<std::string> configure = {API_CMAKE,
                                        "-S",
                                        API_EXAMPLE_DIR,
                                        "-B",
                                        build,
                                        "-G",
                                        API_GENERATOR,
                                        "-DCMAKE_MAKE_PROGRAM=" API_MAKE_PROGRAM,
                                        "-DCMAKE_CXX_COMPILER=" API_CXX_COMPILER,
                                        "-DCMAKE_PREFIX_PATH=" + prefix};
  for (const char* registration : {"each", "directory", "discover"}) {
    SCOPED_TRACE(std::string("JOBS_TEST_REGISTRATION=") + registration);
    std::vector<std::string> argv = configure;
    argv.push_back(std::string("-DJOBS_TEST_REGISTRATION=") + registration);
    RunResult configured = step.Run(argv);
    ASSERT_TRUE(Succeeded(configured)) << configured.Describe() << "\n" << configured.output;
    RunResult built = step.Run({API_CMAKE, "--build", build, "-j", "2"});
    ASSERT_TRUE(Succeeded(built)) << built.Describe() << "\n" << built.output;

    for (bool leak : {false, true}) {
      SCOPED_TRACE(leak ? "JOBS_EXAMPLE_LEAK=1" : "no leak");
      const std::string reports = dir.path() + "/reports-" + registration + (leak ? "-leak" : "");
      fs::create_directories(reports);
      // The caller's options come after the project's (suppressions) and win: JSON files, and
      // a short grace period for a quick test.
      EnvChanges env = {
          {"THREADLEAK_OPTIONS", "format=json:log_path=" + reports + "/tl:linger_ms=100"}};
      if (leak) env["JOBS_EXAMPLE_LEAK"] = "1";
      RunResult tested = step.Run({API_CTEST, "--test-dir", build, "--output-on-failure"}, env);
      ASSERT_TRUE(tested.exited) << tested.Describe() << "\n" << tested.output;
      EXPECT_EQ(TestsRun(tested.output), 3) << tested.output;
      const std::set<std::string> expected_failures =
          leak ? std::set<std::string>{"Heartbeat.BeatsUntilStopped"} : std::set<std::string>{};
      EXPECT_EQ(FailedTests(tested.output), expected_failures) << tested.output;
      EXPECT_EQ(tested.exit_status != 0, leak) << tested.output;

      // Only the heartbeat's thread is reported: by the listener's check, then at exit.
      std::string error;
      std::vector<json> leaks = LeakReports(reports, &error);
      std::multiset<std::string> triggers;
      for (const json& report : leaks) {
        triggers.insert(StringField(report, "trigger"));
        const json& threads = Field(report, "threads");
        ASSERT_TRUE(threads.is_array() && threads.size() == 1) << Summarize(report);
        EXPECT_TRUE(StackHasFunction(Field(Field(threads[0], "created_by"), "stack"),
                                     "Heartbeat_BeatsUntilStopped_Test::TestBody"))
            << Summarize(report);
      }
      const std::multiset<std::string> expected_triggers =
          leak ? std::multiset<std::string>{"api", "exit"} : std::multiset<std::string>{};
      EXPECT_EQ(triggers, expected_triggers) << error << "\n" << tested.output;
    }
  }
}

}  // namespace
}  // namespace e2e
