#include "preload/suppressions.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "preload/report/suppression_rules.h"
#include "preload/report/test_attribution.h"

namespace threadleak {
namespace {

struct Parsed {
  SuppressionTable table;
  std::vector<std::string> errors;
};

Parsed Parse(std::string_view text) {
  Parsed parsed;
  ParseSuppressions(
      text, "rules.supp", &parsed.table,
      [](const char* line, void* out) {
        static_cast<std::vector<std::string>*>(out)->push_back(line);
      },
      &parsed.errors);
  return parsed;
}

TEST(SuppressionParser, ReadsEveryKindSkippingCommentsAndBlankLines) {
  Parsed parsed = Parse(
      "# comment\n\nthread:worker-*\n  top: Writer::process \r\nany:*poll*\ncreated_by:Pool::Pool\n"
      "module:libglib-2.0.so*");
  EXPECT_TRUE(parsed.errors.empty());
  ASSERT_EQ(parsed.table.count, 5u);
  EXPECT_EQ(parsed.table.rules[0].kind, TL_SUPPRESS_THREAD);
  EXPECT_STREQ(parsed.table.rules[0].pattern, "worker-*");
  EXPECT_STREQ(parsed.table.rules[0].source, "rules.supp:3");
  EXPECT_EQ(parsed.table.rules[1].kind, TL_SUPPRESS_TOP);
  EXPECT_STREQ(parsed.table.rules[1].pattern, "Writer::process");  // trimmed
  EXPECT_EQ(parsed.table.rules[2].kind, TL_SUPPRESS_ANY);
  EXPECT_EQ(parsed.table.rules[3].kind, TL_SUPPRESS_CREATED_BY);
  EXPECT_EQ(parsed.table.rules[4].kind, TL_SUPPRESS_MODULE);
  EXPECT_STREQ(parsed.table.rules[4].source, "rules.supp:7");
}

TEST(SuppressionParser, MalformedLinesAreErrorsWithFileAndLineAndAreSkipped) {
  Parsed parsed = Parse("thread:a\nfunction:b\nno colon here\nany:\nthread:c\n");
  ASSERT_EQ(parsed.errors.size(), 3u);
  EXPECT_NE(parsed.errors[0].find("threadleak: error: rules.supp:2: unknown kind"),
            std::string::npos)
      << parsed.errors[0];
  EXPECT_NE(parsed.errors[1].find("rules.supp:3: expected KIND:PATTERN"), std::string::npos);
  EXPECT_NE(parsed.errors[2].find("rules.supp:4: empty pattern"), std::string::npos);
  ASSERT_EQ(parsed.table.count, 2u);
  EXPECT_STREQ(parsed.table.rules[1].pattern, "c");
}

TEST(SuppressionParser, IsBoundedInRulesAndPatternLength) {
  std::string many;
  for (size_t i = 0; i < kMaxSuppressions + 5; ++i) many += "thread:t" + std::to_string(i) + "\n";
  Parsed parsed = Parse(many);
  EXPECT_EQ(parsed.table.count, kMaxSuppressions);
  EXPECT_EQ(parsed.errors.size(), 5u);
  Parsed long_pattern = Parse("any:" + std::string(TL_SUPPRESSION_PATTERN_LEN, 'x'));
  EXPECT_EQ(long_pattern.table.count, 0u);
  EXPECT_NE(long_pattern.errors.at(0).find("pattern too long"), std::string::npos);
}

SourceFrame Frame(std::string function, std::string module = "/bin/prog") {
  SourceFrame frame;
  frame.function = std::move(function);
  frame.module = std::move(module);
  return frame;
}

TEST(SuppressionMatching, EachKindLooksWhereItSays) {
  tl_thread raw{};
  strcpy(raw.name, "worker-3");
  raw.creator_tid = 10;
  SymbolizedThread thread{&raw,
                          Frames({Frame("__futex_abstimed_wait_common", "/lib/libc.so.6"),
                                  Frame("Writer::process() const"), Frame("Pool::Loop()")}),
                          Frames({Frame("Pool::Pool(int)"), Frame("main")})};
  auto matches = [&](uint32_t kind, const char* pattern) {
    return MatchSuppression({{kind, pattern, "test"}}, thread) == 0;
  };
  EXPECT_TRUE(matches(TL_SUPPRESS_THREAD, "worker-*"));
  EXPECT_FALSE(matches(TL_SUPPRESS_THREAD, "worker"));
  EXPECT_TRUE(matches(TL_SUPPRESS_TOP, "Writer::process"));  // without parameters
  EXPECT_TRUE(matches(TL_SUPPRESS_TOP, "Writer::process() const"));
  EXPECT_FALSE(matches(TL_SUPPRESS_TOP, "Pool::Loop"));  // not the top user frame
  EXPECT_FALSE(matches(TL_SUPPRESS_TOP, "__futex*"));    // a runtime frame is never "top"
  EXPECT_TRUE(matches(TL_SUPPRESS_ANY, "Pool::*"));
  EXPECT_TRUE(matches(TL_SUPPRESS_ANY, "__futex*"));
  EXPECT_FALSE(matches(TL_SUPPRESS_ANY, "main"));  // in the creation stack, not the blocked one
  EXPECT_TRUE(matches(TL_SUPPRESS_CREATED_BY, "Pool::Pool"));
  EXPECT_FALSE(matches(TL_SUPPRESS_CREATED_BY, "Writer::*"));
  EXPECT_TRUE(matches(TL_SUPPRESS_MODULE, "libc.so*"));
  EXPECT_FALSE(matches(TL_SUPPRESS_MODULE, "libglib*"));
}

TEST(SuppressionMatching, BuiltInLibcRulesTakeOnlyThreadsTheShimDidNotSeeCreated) {
  tl_thread raw{};
  raw.creator_tid = -1;
  SymbolizedThread unseen{&raw, Frames({Frame("__sigtimedwait", "/lib/libc.so.6")}), Frames()};
  EXPECT_GE(MatchSuppression(DefaultSuppressions(), unseen), 0);
  tl_thread own{};
  own.creator_tid = 7;  // the program's own signal-waiting thread: reported
  SymbolizedThread seen{&own, Frames({Frame("__sigtimedwait", "/lib/libc.so.6")}), Frames()};
  EXPECT_EQ(MatchSuppression(DefaultSuppressions(), seen), -1);
}

TEST(TestAttribution, NamesTheGoogleTestOfATestBody) {
  EXPECT_EQ(TestOfFunction("Cache_RefreshesInTheBackground_Test::TestBody()"),
            "Cache.RefreshesInTheBackground");
  EXPECT_EQ(TestOfFunction("(anonymous namespace)::Cache_Starts_Test::TestBody()"), "Cache.Starts");
  EXPECT_EQ(TestOfFunction("Cache::TestBody()"), "");
  EXPECT_EQ(TestOfFunction("Writer::process()"), "");
  EXPECT_EQ(TestOfFunction("_X_Test::TestBody()"), "");
}

}  // namespace
}  // namespace threadleak
