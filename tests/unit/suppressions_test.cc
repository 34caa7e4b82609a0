#include "preload/config/suppressions.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "preload/report/analysis/suppression_rules.h"
#include "preload/report/analysis/test_attribution.h"

namespace threadleak {
namespace {

struct ParsedRules {
  SuppressionTable table;
  std::vector<std::string> errors;
};

ParsedRules ParseRules(std::string_view text) {
  ParsedRules parsed;
  ParseSuppressions(
      text, "rules.supp", &parsed.table,
      [](const char* line, void* out) {
        static_cast<std::vector<std::string>*>(out)->push_back(line);
      },
      &parsed.errors);
  return parsed;
}

TEST(SuppressionParser, ReadsEveryKindSkippingCommentsAndBlankLines) {
  ParsedRules parsed = ParseRules(
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
  ParsedRules parsed = ParseRules("thread:a\nfunction:b\nno colon here\nany:\nthread:c\n");
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
  ParsedRules parsed = ParseRules(many);
  EXPECT_EQ(parsed.table.count, kMaxSuppressions);
  EXPECT_EQ(parsed.errors.size(), 5u);
  ParsedRules long_pattern = ParseRules("any:" + std::string(TL_SUPPRESSION_PATTERN_LEN, 'x'));
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

// The built-in runtime rules take a thread only when the runtime created it AND runs only its
// own code there: a thread the program started always has a frame of the program.
TEST(SuppressionMatching, RuntimeRulesTakeOnlyTheRuntimesOwnThreads) {
  tl_thread raw{};
  raw.creator_tid = 7;
  const std::string gomp = "/usr/lib/x86_64-linux-gnu/libgomp.so.1";
  const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
  auto matched_by_defaults = [&](Frames stack, Frames creation) {
    SymbolizedThread thread{&raw, std::move(stack), std::move(creation)};
    int rule = MatchSuppression(DefaultSuppressions(), thread);
    return rule >= 0 ? RuleText(DefaultSuppressions()[rule]) : std::string();
  };
  // libgomp's pool thread, stripped library: no names, only modules.
  EXPECT_EQ(
      matched_by_defaults(
          Frames({Frame("", libc), Frame("", gomp), Frame("", gomp), Frame("start_thread", libc)}),
          Frames({Frame("", gomp), Frame("GOMP_parallel", gomp), Frame("main")})),
      "runtime:libgomp.so*");
  // The program's own thread, blocked inside an OpenMP region it runs.
  EXPECT_EQ(matched_by_defaults(Frames({Frame("", libc), Frame("", gomp), Frame("Worker"),
                                        Frame("start_thread", libc)}),
                                Frames({Frame("main")})),
            "");
  // Created by the program, running only libgomp's code (a start routine taken from libgomp).
  EXPECT_EQ(matched_by_defaults(Frames({Frame("", gomp)}), Frames({Frame("main")})), "");
  // Created by libgomp, but running the program's code: not the runtime's own.
  EXPECT_EQ(
      matched_by_defaults(Frames({Frame("", gomp), Frame("Task")}), Frames({Frame("", gomp)})), "");
  // No stack at all (a thread that blocks the sampling signal): nothing proves it is libgomp's.
  EXPECT_EQ(matched_by_defaults(Frames(), Frames({Frame("", gomp)})), "");
  // A GLib thread the program started with g_thread_new: GLib created it, the program runs there.
  const std::string glib = "/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0";
  EXPECT_EQ(matched_by_defaults(Frames({Frame("g_cond_wait", glib), Frame("ProgramLoop"),
                                        Frame("g_thread_proxy", glib)}),
                                Frames({Frame("g_thread_new", glib), Frame("main")})),
            "");
  // GLib's thread-pool worker: created by GLib for g_thread_pool_push, running GLib's code.
  EXPECT_EQ(
      matched_by_defaults(
          Frames({Frame("g_cond_wait", glib), Frame("", glib), Frame("g_thread_proxy", glib)}),
          Frames({Frame("g_thread_new", glib), Frame("g_thread_pool_push", glib), Frame("main")})),
      "runtime:libglib-2.0.so*,libgio-2.0.so*");
  // g_thread_new(..., g_main_loop_run, ...) from the program: only GLib's code runs there, but the
  // program asked for this thread to run what it passed.
  EXPECT_EQ(
      matched_by_defaults(Frames({Frame("g_main_loop_run", glib), Frame("g_thread_proxy", glib)}),
                          Frames({Frame("", glib), Frame("g_thread_new", glib), Frame("main")})),
      "");
}

// libuv's pool linked into node: the three conditions must all hold.
TEST(SuppressionMatching, LinkedInLibuvPoolNeedsEveryCondition) {
  tl_thread raw{};
  raw.creator_tid = 7;
  auto matched = [&](Frames stack, Frames creation) {
    SymbolizedThread thread{&raw, std::move(stack), std::move(creation)};
    return MatchSuppression(DefaultSuppressions(), thread) >= 0;
  };
  Frames pool_creation({Frame("uv_thread_create_ex", "/usr/bin/node"),
                        Frame("init_once", "/usr/bin/node"), Frame("main", "/usr/bin/node")});
  EXPECT_TRUE(
      matched(Frames({Frame("uv_cond_wait", "/usr/bin/node"), Frame("worker", "/usr/bin/node")}),
              pool_creation));
  // A thread of an addon started with uv_thread_create: another start routine.
  EXPECT_FALSE(matched(
      Frames({Frame("uv_cond_wait", "/usr/bin/node"), Frame("AddonLoop", "/usr/lib/addon.node")}),
      Frames({Frame("uv_thread_create_ex", "/usr/bin/node"),
              Frame("StartAddon", "/usr/lib/addon.node")})));
  // A program's own "worker" function, created elsewhere.
  EXPECT_FALSE(matched(Frames({Frame("worker")}), Frames({Frame("main")})));
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
