#include "preload/config/options.h"
#include "preload/config/signal_names.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

namespace threadleak {
namespace {

struct ParsedOptions {
  Options options;
  std::vector<std::string> warnings;
};

ParsedOptions ParseText(const char* text) {
  ParsedOptions parsed;
  ParseOptions(
      text, &parsed.options,
      [](const char* line, void* context) {
        static_cast<std::vector<std::string>*>(context)->push_back(line);
      },
      &parsed.warnings);
  return parsed;
}

TEST(Options, DefaultsAreDocumentedValues) {
  Options defaults;
  EXPECT_EQ(defaults.format, TL_FORMAT_TEXT);
  EXPECT_STREQ(defaults.log_path, "stderr");
  EXPECT_EQ(defaults.exitcode, 66);
  EXPECT_EQ(defaults.linger_ms, 500);
  EXPECT_TRUE(defaults.symbolize);
  EXPECT_TRUE(defaults.demangle);
  EXPECT_FALSE(defaults.debuginfod);
  EXPECT_STREQ(defaults.strip_path_prefix, "");
}

TEST(Options, BooleansTakeZeroOneFalseTrue) {
  ParsedOptions parsed = ParseText("symbolize=0:demangle=false:debuginfod=true");
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_FALSE(parsed.options.symbolize);
  EXPECT_FALSE(parsed.options.demangle);
  EXPECT_TRUE(parsed.options.debuginfod);
  EXPECT_EQ(ParseText("symbolize=yes").warnings.size(), 1u);
}

TEST(Options, NullAndEmptyTextKeepDefaults) {
  EXPECT_TRUE(ParseText(nullptr).warnings.empty());
  ParsedOptions parsed = ParseText("");
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_EQ(parsed.options.exitcode, 66);
}

TEST(Options, ParsesEveryOption) {
  ParsedOptions parsed = ParseText("format=json:log_path=/tmp/report:exitcode=3:linger_ms=25");
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_EQ(parsed.options.format, TL_FORMAT_JSON);
  EXPECT_STREQ(parsed.options.log_path, "/tmp/report");
  EXPECT_EQ(parsed.options.exitcode, 3);
  EXPECT_EQ(parsed.options.linger_ms, 25);
}

TEST(Options, EveryFormatParsesToADeclaredValue) {
  for (const char* format : {"text", "json", "dot", "pprof"}) {
    ParsedOptions parsed = ParseText((std::string("format=") + format).c_str());
    EXPECT_TRUE(parsed.warnings.empty()) << format;
    EXPECT_TRUE(HoldsDeclaredValues(parsed.options)) << format;
  }
  EXPECT_EQ(ParseText("format=pprof").options.format, TL_FORMAT_PPROF);
}

TEST(Options, ValuesOutsideTheDeclarationsAreNoticed) {
  EXPECT_TRUE(HoldsDeclaredValues(Options{}));
  Options options;
  options.format = 99;
  EXPECT_FALSE(HoldsDeclaredValues(options));
  options = Options{};
  options.exitcode = 256;
  EXPECT_FALSE(HoldsDeclaredValues(options));
  options = Options{};
  memset(options.log_path, 'x', sizeof options.log_path);
  EXPECT_FALSE(HoldsDeclaredValues(options));
}

TEST(Options, WhitespaceAndRepeatedSeparatorsSeparateToo) {
  ParsedOptions parsed = ParseText("  format=json \n::exitcode=9\t");
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_EQ(parsed.options.format, TL_FORMAT_JSON);
  EXPECT_EQ(parsed.options.exitcode, 9);
}

TEST(Options, LaterValuesWin) {
  EXPECT_EQ(ParseText("exitcode=1:exitcode=2").options.exitcode, 2);
}

TEST(Options, UnknownKeyWarnsNamingTheKey) {
  ParsedOptions parsed = ParseText("colour=yes:exitcode=5");
  ASSERT_EQ(parsed.warnings.size(), 1u);
  EXPECT_EQ(parsed.warnings[0],
            "threadleak: warning: unknown option 'colour' in THREADLEAK_OPTIONS (ignored)");
  EXPECT_EQ(parsed.options.exitcode, 5);
}

TEST(Options, MalformedValuesWarnAndKeepTheDefault) {
  for (const char* text : {"exitcode=abc", "exitcode=256", "exitcode=-1", "exitcode=",
                           "linger_ms=99999999999999999999", "format=xml", "log_path="}) {
    SCOPED_TRACE(text);
    ParsedOptions parsed = ParseText(text);
    ASSERT_EQ(parsed.warnings.size(), 1u);
    EXPECT_NE(parsed.warnings[0].find("invalid value"), std::string::npos);
    EXPECT_NE(parsed.warnings[0].find(text), std::string::npos);
    Options defaults;
    EXPECT_EQ(parsed.options.exitcode, defaults.exitcode);
    EXPECT_EQ(parsed.options.linger_ms, defaults.linger_ms);
    EXPECT_EQ(parsed.options.format, defaults.format);
    EXPECT_STREQ(parsed.options.log_path, defaults.log_path);
  }
}

TEST(Options, EntryWithoutEqualsIsMalformed) {
  ParsedOptions parsed = ParseText("json:=3");
  ASSERT_EQ(parsed.warnings.size(), 2u);
  EXPECT_NE(parsed.warnings[0].find("malformed entry"), std::string::npos);
  EXPECT_NE(parsed.warnings[0].find("'json'"), std::string::npos);
}

TEST(Options, OverlongPathIsRejectedNotTruncated) {
  std::string text = "log_path=" + std::string(kMaxOptionString + 10, 'a');
  ParsedOptions parsed = ParseText(text.c_str());
  EXPECT_EQ(parsed.warnings.size(), 1u);
  EXPECT_STREQ(parsed.options.log_path, "stderr");
}

TEST(Options, HugeInputIsBoundedAndDoesNotCrash) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "exitcode=7:";
  ParsedOptions parsed = ParseText(text.c_str());
  EXPECT_TRUE(parsed.warnings.empty());
  EXPECT_EQ(parsed.options.exitcode, 7);
}

// CheckOptionEntry: the shim's verdict on one entry, for the wrapper's flags.
TEST(Options, CheckOptionEntryTakesWhatTheShimTakes) {
  OptionProblem problem;
  for (const char* entry :
       {"format=json", "exitcode=0", "exitcode=255", "staging=true", "log_path=/tmp/r",
        "dump_signal=SIGRTMIN+2", "dump_signal=none", "dump_signal=10",
        "include=/no/such/file"}) {  // include= is checked as a value: its file is not read
    EXPECT_TRUE(CheckOptionEntry(entry, &problem)) << entry << ": " << problem.c_str();
    EXPECT_EQ(problem.size(), 0u);
  }
}

TEST(Options, CheckOptionEntryRefusesInTheWordsOfTheShimsWarning) {
  for (const char* entry : {"exitcode=256", "exitcode=x", "format=xml", "staging=2",
                            "log_path=", "colour=1", "linger_ms"}) {
    SCOPED_TRACE(entry);
    OptionProblem problem;
    EXPECT_FALSE(CheckOptionEntry(entry, &problem));
    ParsedOptions parsed = ParseText(entry);
    ASSERT_EQ(parsed.warnings.size(), 1u);
    EXPECT_EQ(parsed.warnings[0], "threadleak: warning: " + std::string(problem.view()) +
                                      " in THREADLEAK_OPTIONS (ignored)");
  }
}

TEST(Options, CheckOptionEntryRefusesAValueTheShimWouldSplit) {
  for (const char* entry : {"log_path=/tmp/a:b", "log_path=/tmp/a b", "suppressions=a,b"}) {
    OptionProblem problem;
    EXPECT_FALSE(CheckOptionEntry(entry, &problem)) << entry;
    EXPECT_NE(problem.view().find(entry), std::string_view::npos) << problem.c_str();
  }
}

// A signal option is checked when the shim first uses it (a bad one turns that feature off, with
// its own warning), not while parsing; CheckOptionEntry applies that same check at once.
TEST(Options, SignalValuesAreCheckedByTheRuleTheShimUsesThem) {
  for (const char* value : {"SIGFOO", "SIGKILL", "SIGSEGV", "999", "RTMIN+999", "SIGRTMAX-3"}) {
    SCOPED_TRACE(value);
    const std::string entry = std::string("dump_signal=") + value;
    EXPECT_EQ(ParseSignalOption(value), kBadSignal);
    ParsedOptions parsed = ParseText(entry.c_str());
    EXPECT_TRUE(parsed.warnings.empty());
    EXPECT_STREQ(parsed.options.dump_signal, value);
    OptionProblem problem;
    EXPECT_FALSE(CheckOptionEntry(entry, &problem));
    EXPECT_EQ(problem.view(), "invalid value '" + entry + "'");
  }
}

TEST(Options, TheSamplingSignalIsNoOptionsToTake) {
  EXPECT_EQ(ParseSignal("SIGRTMAX-3"), SamplingSignal());
  EXPECT_EQ(ParseSignal(std::to_string(SamplingSignal())), SamplingSignal());
  EXPECT_EQ(ParseSignalOption(std::to_string(SamplingSignal())), kBadSignal);
  EXPECT_EQ(ParseSignalOption("SIGRTMAX-2"), SIGRTMAX - 2);
  EXPECT_EQ(ParseSignalOption("USR2"), SIGUSR2);
  EXPECT_EQ(ParseSignalOption("none"), kNoSignal);
}

}  // namespace
}  // namespace threadleak
