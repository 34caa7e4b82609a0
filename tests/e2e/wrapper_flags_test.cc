// The wrapper's flags end to end, each from the table (preload/config/wrapper_flags.inc): its
// help lists every one, each reaches the program's THREADLEAK_OPTIONS as key=value, and a value
// the shim would refuse stops the wrapper with one line and status 2 before the program runs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/common/wrapper_flag_samples.h"
#include "tests/e2e/support.h"

namespace e2e {
namespace {

using test_support::SampleFlag;
using test_support::SampleFlagKind;

constexpr int kUsageError = 2;

std::vector<std::string> OutputLines(const std::string& output) {
  std::vector<std::string> lines;
  for (size_t start = 0, end; start < output.size(); start = end + 1) {
    end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    lines.push_back(output.substr(start, end - start));
  }
  return lines;
}

TEST(WrapperFlags, HelpListsEveryFlagOfTheTable) {
  TempDir dir;
  const RunResult help = RunProgram({E2E_WRAPPER, "--help"}, {}, dir.path() + "/help.txt");
  EXPECT_EQ(help.Describe(), "exit 0");
  for (const SampleFlag& flag : test_support::TableFlags()) {
    std::string left = "\n  " + flag.flag;
    if (flag.kind == SampleFlagKind::kValue) left += " " + flag.value;
    if (flag.kind == SampleFlagKind::kSeconds) left += " SECONDS";
    EXPECT_NE(help.output.find(left + " "), std::string::npos) << left << "\n" << help.output;
    EXPECT_NE(help.output.find("(" + flag.option + "="), std::string::npos) << flag.option;
  }
}

// Run under the wrapper with THREADLEAK_OPTIONS already set: the flag's entries come after it.
TEST(WrapperFlags, EachFlagReachesThreadleakOptionsAsKeyValue) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    SCOPED_TRACE(flag.flag);
    std::vector<std::string> arguments = {E2E_WRAPPER, flag.flag};
    std::string expected = flag.option + "=";
    if (flag.kind == SampleFlagKind::kSwitch) {
      expected += flag.value;
    } else if (flag.kind == SampleFlagKind::kValue) {
      const std::string good = test_support::SamplesFor(flag.option).good;
      arguments.push_back(good);
      expected += good;
    } else {
      const test_support::SecondsSamples seconds = test_support::SecondsSamplesFor(flag.option);
      arguments.push_back(seconds.good);
      expected += seconds.good_ms + ":" + flag.value;
    }
    arguments.insert(arguments.end(), {"--", "printenv", "THREADLEAK_OPTIONS"});
    TempDir dir;
    const RunResult run =
        RunProgram(arguments, {{"THREADLEAK_OPTIONS", "linger_ms=7"}, {"LD_PRELOAD", std::nullopt}},
                   dir.path() + "/output.txt");
    EXPECT_EQ(run.Describe(), "exit 0") << run.output;
    const std::vector<std::string> lines = OutputLines(run.output);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "linger_ms=7:" + expected), lines.end())
        << run.output;
  }
}

// Each bad value, for each flag that takes one: the wrapper's one line, in the words the shim
// would have warned with, status 2, and the program never runs.
TEST(WrapperFlags, ABadValueIsRefusedBeforeTheProgramRuns) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    std::vector<std::string> bad_values;
    if (flag.kind == SampleFlagKind::kValue) {
      bad_values = test_support::SamplesFor(flag.option).bad;
    } else if (flag.kind == SampleFlagKind::kSeconds) {
      bad_values = test_support::SecondsSamplesFor(flag.option).bad;
    }
    for (const std::string& bad : bad_values) {
      SCOPED_TRACE(flag.flag + " '" + bad + "'");
      TempDir dir;
      const std::string ran = dir.path() + "/ran";
      const RunResult run = RunProgram({E2E_WRAPPER, flag.flag, bad, "--", "touch", ran},
                                       {{"LD_PRELOAD", std::nullopt}}, dir.path() + "/output.txt");
      EXPECT_EQ(run.Describe(), "exit " + std::to_string(kUsageError)) << run.output;
      EXPECT_NE(access(ran.c_str(), F_OK), 0) << "the program ran";
      const std::vector<std::string> lines = OutputLines(run.output);
      ASSERT_EQ(lines.size(), 1u) << run.output;
      EXPECT_EQ(lines[0].rfind("threadleak: error: " + flag.flag, 0), 0u) << lines[0];
      if (flag.kind == SampleFlagKind::kValue && bad.find_first_of(": ") == std::string::npos) {
        EXPECT_NE(lines[0].find("invalid value '" + flag.option + "="), std::string::npos)
            << lines[0];
      }
    }
  }
}

// Subcommands after flags, as before: flags do not change what a subcommand does.
TEST(WrapperFlags, ASubcommandMayFollowFlags) {
  TempDir dir;
  RunResult run = RunProgram({E2E_WRAPPER, "--json", "dump", "x"}, {}, dir.path() + "/output.txt");
  EXPECT_EQ(run.Describe(), "exit 2");
  EXPECT_NE(run.output.find("dump: 'x' is not a process id"), std::string::npos) << run.output;
  run = RunProgram({E2E_WRAPPER, "--json", "report", "--help"}, {}, dir.path() + "/output.txt");
  EXPECT_EQ(run.Describe(), "exit 0");
  EXPECT_NE(run.output.find("usage: threadleak report"), std::string::npos) << run.output;
  // After --, `dump` is a program's name.
  run = RunProgram({E2E_WRAPPER, "--", "dump", "1"}, {}, dir.path() + "/output.txt");
  EXPECT_EQ(run.Describe(), "exit 2");
  EXPECT_NE(run.output.find("cannot find program 'dump'"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace e2e
