// The wrapper's command line (scripts/wrapper_arguments.h), flag by flag from the table
// (preload/config/wrapper_flags.inc): each reaches the options as key=value, each bad value is
// refused in the words the shim would warn with, and the help lists each one with what it sets.
#include "scripts/wrapper_arguments.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "preload/config/options.h"
#include "tests/common/wrapper_flag_samples.h"

namespace threadleak {
namespace {

using test_support::SampleFlag;
using test_support::SampleFlagKind;

WrapperCommand Parse(const std::vector<std::string>& arguments) {
  std::vector<std::string_view> views(arguments.begin(), arguments.end());
  return ParseWrapperArguments(views);
}

// What the shim says of `entry` in THREADLEAK_OPTIONS: its warnings.
std::vector<std::string> ShimWarnings(const std::string& entry) {
  Options options;
  std::vector<std::string> warnings;
  ParseOptions(
      entry.c_str(), &options,
      [](const char* line, void* context) {
        static_cast<std::vector<std::string>*>(context)->push_back(line);
      },
      &warnings);
  return warnings;
}

TEST(WrapperArguments, TheTableIsTheOneTheWrapperReads) {
  const std::vector<SampleFlag> table = test_support::TableFlags();
  ASSERT_EQ(WrapperFlags().size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(WrapperFlags()[i].flag, table[i].flag);
    EXPECT_EQ(WrapperFlags()[i].option, table[i].option);
  }
  // The flags the wrapper has always had are still there.
  for (std::string_view flag :
       {"--json", "--text", "--dot", "--log-path", "--exitcode", "--linger-ms", "--staging",
        "--suppressions", "--print-suppressions", "--ignore-existing", "--timeout", "--dump-signal",
        "--watchdog-ms"}) {
    bool found = false;
    for (const WrapperFlag& entry : WrapperFlags()) found = found || entry.flag == flag;
    EXPECT_TRUE(found) << flag;
  }
}

TEST(WrapperArguments, WhatEachSwitchSetsTheShimTakes) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    if (flag.kind == SampleFlagKind::kValue) continue;
    const std::string entry =
        flag.kind == SampleFlagKind::kSwitch ? flag.option + "=" + flag.value : flag.value;
    EXPECT_TRUE(ShimWarnings(entry).empty()) << flag.flag << " sets " << entry;
  }
}

TEST(WrapperArguments, EachFlagReachesTheOptionsAsKeyValue) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    SCOPED_TRACE(flag.flag);
    std::vector<std::vector<std::string>> spellings;
    std::string expected;
    if (flag.kind == SampleFlagKind::kSwitch) {
      spellings = {{flag.flag}};
      expected = flag.option + "=" + flag.value;
    } else if (flag.kind == SampleFlagKind::kValue) {
      const std::string good = test_support::SamplesFor(flag.option).good;
      spellings = {{flag.flag, good}, {flag.flag + "=" + good}};
      expected = flag.option + "=" + good;
    } else {
      const test_support::SecondsSamples seconds = test_support::SecondsSamplesFor(flag.option);
      spellings = {{flag.flag, seconds.good}, {flag.flag + "=" + seconds.good}};
      expected = flag.option + "=" + seconds.good_ms + ":" + flag.value;
    }
    EXPECT_TRUE(ShimWarnings(expected).empty()) << expected;
    for (std::vector<std::string> arguments : spellings) {
      arguments.insert(arguments.begin(), {"-o", "linger_ms=7"});
      arguments.insert(arguments.end(), {"--", "prog", "--json"});
      const WrapperCommand command = Parse(arguments);
      ASSERT_EQ(command.action, WrapperCommand::kRun) << command.error;
      EXPECT_EQ(command.options, "linger_ms=7:" + expected);
      EXPECT_EQ(command.operands, (std::vector<std::string>{"prog", "--json"}));
      EXPECT_TRUE(command.after_double_dash);
    }
  }
}

// The wrapper refuses what the shim would refuse, with the shim's words, as one line.
TEST(WrapperArguments, EachBadValueIsRefusedInTheShimsWords) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    if (flag.kind != SampleFlagKind::kValue) continue;
    for (const std::string& bad : test_support::SamplesFor(flag.option).bad) {
      SCOPED_TRACE(flag.flag + " '" + bad + "'");
      const WrapperCommand command = Parse({flag.flag, bad, "prog"});
      ASSERT_EQ(command.action, WrapperCommand::kError);
      EXPECT_EQ(command.error.find('\n'), std::string::npos);
      EXPECT_EQ(command.error.rfind(flag.flag + ": ", 0), 0u) << command.error;
      const std::string entry = flag.option + "=" + bad;
      OptionProblem problem;
      EXPECT_FALSE(CheckOptionEntry(entry, &problem));
      EXPECT_EQ(command.error, flag.flag + ": " + std::string(problem.view()));
      // Where the shim warns at once (all but a signal, which it checks when it first uses it,
      // and a value it would split), the words are the warning's.
      const std::vector<std::string> warnings = ShimWarnings(entry);
      if (warnings.size() == 1 && bad.find_first_of(": ") == std::string::npos) {
        const std::string_view words = problem.view().substr(0, 60);  // both lines are bounded
        EXPECT_NE(warnings[0].find(words), std::string::npos) << warnings[0];
      }
      EXPECT_EQ(Parse({flag.flag + "=" + bad, "prog"}).action, WrapperCommand::kError);
    }
  }
}

TEST(WrapperArguments, SecondsThatAreNoNumberOrTooManyAreRefused) {
  for (const SampleFlag& flag : test_support::TableFlags()) {
    if (flag.kind != SampleFlagKind::kSeconds) continue;
    for (const std::string& bad : test_support::SecondsSamplesFor(flag.option).bad) {
      SCOPED_TRACE(flag.flag + " '" + bad + "'");
      const WrapperCommand command = Parse({flag.flag, bad, "prog"});
      ASSERT_EQ(command.action, WrapperCommand::kError);
      EXPECT_EQ(command.error.rfind(flag.flag, 0), 0u) << command.error;
      EXPECT_TRUE(command.options.empty()) << "nothing of a refused flag is kept";
    }
  }
}

TEST(WrapperArguments, SecondsBecomeWholeMilliseconds) {
  EXPECT_EQ(SecondsToMilliseconds("1.5"), "1500");
  EXPECT_EQ(SecondsToMilliseconds("90"), "90000");
  EXPECT_EQ(SecondsToMilliseconds(".25"), "250");
  EXPECT_EQ(SecondsToMilliseconds("5."), "5000");
  EXPECT_EQ(SecondsToMilliseconds("0"), "0");
  EXPECT_EQ(SecondsToMilliseconds("0.0001"), "0");
  EXPECT_EQ(SecondsToMilliseconds("1.0019"), "1001");  // exact, where a float gives 1000.99...
  EXPECT_EQ(SecondsToMilliseconds("007"), "7000");
  for (std::string_view bad : {"", ".", "1.2.3", "1e3", "-1", "+1", " 1", "0x10"}) {
    EXPECT_EQ(SecondsToMilliseconds(bad), "") << bad;
  }
}

TEST(WrapperArguments, UsageErrorsAreOneLineEach) {
  struct Case {
    std::vector<std::string> arguments;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{"--frobnicate", "prog"}, "unknown option '--frobnicate' (see threadleak --help)"},
           {{"--json=1", "prog"}, "unknown option '--json=1' (see threadleak --help)"},
           {{"-"}, "unknown option '-' (see threadleak --help)"},
           {{"--log-path"}, "--log-path needs a value"},
           {{"--timeout"}, "--timeout needs a value"},
           {{"-o"}, "-o needs a value"},
           {{"-o", "linger_ms"}, "option 'linger_ms' is not of the form key=value"},
           {{"--option=x", "prog"}, "option 'x' is not of the form key=value"},
           {{"--exitcode", "256", "--bogus"}, "--exitcode: invalid value 'exitcode=256'"},
       }) {
    const WrapperCommand command = Parse(c.arguments);
    EXPECT_EQ(command.action, WrapperCommand::kError) << c.error;
    EXPECT_EQ(command.error, c.error);
  }
}

TEST(WrapperArguments, OptionFlagPassesAnyKeyValueOn) {
  // As from THREADLEAK_OPTIONS: the shim warns about what it does not know, the program runs.
  const WrapperCommand command =
      Parse({"-o", "colour=1", "--option", "a=b", "--option=log_path=/x", "prog"});
  ASSERT_EQ(command.action, WrapperCommand::kRun) << command.error;
  EXPECT_EQ(command.options, "colour=1:a=b:log_path=/x");
}

TEST(WrapperArguments, TheFirstOperandEndsTheFlags) {
  WrapperCommand command = Parse({"--json", "prog", "--text", "-h"});
  ASSERT_EQ(command.action, WrapperCommand::kRun);
  EXPECT_EQ(command.options, "format=json");
  EXPECT_EQ(command.operands, (std::vector<std::string>{"prog", "--text", "-h"}));
  EXPECT_FALSE(command.after_double_dash);
  command = Parse({"dump", "42"});
  EXPECT_EQ(command.operands, (std::vector<std::string>{"dump", "42"}));
  EXPECT_FALSE(command.after_double_dash);
  command = Parse({"--", "dump", "42"});
  EXPECT_TRUE(command.after_double_dash);
  EXPECT_TRUE(Parse({}).operands.empty());
}

TEST(WrapperArguments, HelpAndVersionWinOverWhatFollows) {
  EXPECT_EQ(Parse({"--json", "--help", "--bogus"}).action, WrapperCommand::kHelp);
  EXPECT_EQ(Parse({"-h"}).action, WrapperCommand::kHelp);
  EXPECT_EQ(Parse({"--version", "prog"}).action, WrapperCommand::kVersion);
  // ... but not over an error before them.
  EXPECT_EQ(Parse({"--bogus", "--help"}).action, WrapperCommand::kError);
}

TEST(WrapperArguments, HelpListsEveryFlagOfTheTableWithWhatItSets) {
  const std::string usage = WrapperUsage();
  for (const SampleFlag& flag : test_support::TableFlags()) {
    std::string left = "\n  " + flag.flag;
    if (flag.kind == SampleFlagKind::kValue) left += " " + flag.value;
    if (flag.kind == SampleFlagKind::kSeconds) left += " SECONDS";
    const size_t at = usage.find(left + " ");
    ASSERT_NE(at, std::string::npos) << flag.flag << "\n" << usage;
    // What it sets, in parentheses, before the next flag's line. (Help lines wrap at spaces.)
    const size_t next = usage.find("\n  -", at + 1);
    std::string item = usage.substr(at, next - at);
    for (size_t newline; (newline = item.find("\n")) != std::string::npos;) {
      const size_t words = item.find_first_not_of(' ', newline + 1);
      item.replace(newline, words - newline, " ");
    }
    EXPECT_NE(item.find("(" + flag.option + "="), std::string::npos) << item;
  }
  for (std::string_view own : {"-o, --option K=V", "-h, --help", "--version"}) {
    EXPECT_NE(usage.find(own), std::string::npos) << own;
  }
  for (size_t start = 0, end; (end = usage.find('\n', start)) != std::string::npos;
       start = end + 1) {
    EXPECT_LE(end - start, 95u) << usage.substr(start, end - start);
  }
}

TEST(WrapperArguments, HelpSaysTheDefaultsAndRangesOfOptionsInc) {
  const std::string usage = WrapperUsage();
  EXPECT_NE(usage.find("(exitcode=N, 0 to 255; default 66)"), std::string::npos) << usage;
  EXPECT_NE(usage.find("(format=text, the default)"), std::string::npos) << usage;
  EXPECT_NE(usage.find("(dump_signal=SIG; default SIGUSR2)"), std::string::npos) << usage;
}

}  // namespace
}  // namespace threadleak
