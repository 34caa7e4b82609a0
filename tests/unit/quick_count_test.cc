// The exit's count-only pass (preload/report/analysis/quick_count.h): frames named from the symbol
// tables alone, the rules each step may decide, and counts on snapshots of this process's own pcs.
#include "preload/report/analysis/quick_count.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/return_address.h"

namespace threadleak {
namespace {

using unit_tests::ReturnAddress;

// Each returns an address just after its call to ReturnAddress(): a return address inside it.
__attribute__((noinline)) uintptr_t QuickCountWaiter() {
  uintptr_t pc = ReturnAddress();
  asm volatile("");
  return pc;
}

__attribute__((noinline)) uintptr_t QuickCountCreator() {
  uintptr_t pc = ReturnAddress();
  asm volatile("");
  return pc;
}

tl_thread ThreadAt(int32_t tid, const char* name, uintptr_t pc, uintptr_t creation_pc) {
  tl_thread thread{};
  thread.tid = tid;
  strncpy(thread.name, name, TL_NAME_LEN - 1);
  thread.state = TL_STATE_COND;
  thread.blocked_ns = -1;
  thread.syscall_number = -1;
  thread.creator_tid = 1;
  thread.stack = {TL_STACK_RETURNS, 1, {pc}};
  thread.creation = {TL_STACK_RETURNS, 1, {creation_pc}};
  return thread;
}

struct OwnedSnapshot {
  explicit OwnedSnapshot(std::vector<tl_thread> t) : threads(std::move(t)) {
    snapshot.pid = getpid();
    snapshot.kind = TL_REPORT_LEAKS;
    snapshot.thread_count = static_cast<uint32_t>(threads.size());
    snapshot.threads = threads.data();
  }
  std::vector<tl_thread> threads;
  tl_snapshot snapshot{};
};

SuppressionRule Rule(uint32_t kind, const char* pattern) {
  return {kind, pattern, "test"};
}

TEST(QuickCount, NamesAReturnAddressFromTheSymbolTable) {
  Symbolizer symbolizer;
  std::vector<SourceFrame> frames = {symbolizer.Locate(QuickCountWaiter(), true)};
  ASSERT_FALSE(frames[0].module.empty());
  NameFromSymbolTables(&frames, /*demangle=*/true);
  EXPECT_EQ(frames[0].function, "threadleak::(anonymous namespace)::QuickCountWaiter()");
  std::vector<SourceFrame> mangled = {symbolizer.Locate(QuickCountWaiter(), true)};
  NameFromSymbolTables(&mangled, /*demangle=*/false);
  EXPECT_EQ(mangled[0].function.rfind("_ZN", 0), 0u) << mangled[0].function;
}

TEST(QuickCount, FramesWithoutAModuleStayUnnamed) {
  std::vector<SourceFrame> frames(2);
  frames[1].module = "/nonexistent/module.so";
  frames[1].module_offset = 0x1234;
  NameFromSymbolTables(&frames, true);
  EXPECT_TRUE(frames[0].function.empty());
  EXPECT_TRUE(frames[1].function.empty());
}

TEST(QuickCount, WhichRulesEachStepDecides) {
  EXPECT_TRUE(RuleDecidable(Rule(TL_SUPPRESS_THREAD, "pool-*"), FramesKnown::kModules));
  EXPECT_TRUE(RuleDecidable(Rule(TL_SUPPRESS_MODULE, "libfoo.so"), FramesKnown::kModules));
  EXPECT_FALSE(RuleDecidable(Rule(TL_SUPPRESS_ANY, "f"), FramesKnown::kModules));
  EXPECT_TRUE(RuleDecidable(Rule(TL_SUPPRESS_ANY, "f"), FramesKnown::kSymbolTableNames));
  EXPECT_TRUE(RuleDecidable(Rule(TL_SUPPRESS_CREATED_BY, "f"), FramesKnown::kSymbolTableNames));
  // An inlined call, which no symbol table names, can be the top user frame.
  EXPECT_FALSE(RuleDecidable(Rule(TL_SUPPRESS_TOP, "f"), FramesKnown::kSymbolTableNames));
  SuppressionRule with_top = Rule(TL_SUPPRESS_THREAD, "x");
  with_top.also = {{TL_SUPPRESS_TOP, "f"}};
  EXPECT_FALSE(RuleDecidable(with_top, FramesKnown::kSymbolTableNames));
  // Runtime rules: by module, unless the spawn functions' names must be read.
  for (const SuppressionRule& rule : DefaultSuppressions()) {
    if (!rule.runtime_thread) continue;
    EXPECT_EQ(RuleDecidable(rule, FramesKnown::kModules), rule.spawn_functions.empty())
        << RuleText(rule);
    EXPECT_TRUE(RuleDecidable(rule, FramesKnown::kSymbolTableNames)) << RuleText(rule);
  }
}

TEST(QuickCount, CountsWhatNoDecidableRuleClears) {
  Symbolizer symbolizer;
  const uintptr_t waiter = QuickCountWaiter(), creator = QuickCountCreator();
  OwnedSnapshot s(
      {ThreadAt(10, "pool-1", waiter, creator), ThreadAt(11, "other", waiter, creator)});
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {}, symbolizer, true), 2u);
  // By name (step 1), by function (step 2), by creator (step 2).
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {Rule(TL_SUPPRESS_THREAD, "pool-*")}, symbolizer, true),
            1u);
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {Rule(TL_SUPPRESS_ANY, "*QuickCountWaiter*")}, symbolizer,
                              true),
            0u);
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {Rule(TL_SUPPRESS_CREATED_BY, "*QuickCountCreator*")},
                              symbolizer, true),
            0u);
  EXPECT_EQ(
      CountLeaksQuickly(s.snapshot, {Rule(TL_SUPPRESS_ANY, "*NoSuchFunction*")}, symbolizer, true),
      2u);
  // top: is left to the full report: the threads count here.
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {Rule(TL_SUPPRESS_TOP, "*QuickCountWaiter*")}, symbolizer,
                              true),
            2u);
}

TEST(QuickCount, TheThreadWhoseExitCannotFinishIsNoLeak) {
  Symbolizer symbolizer;
  tl_thread exiting = ThreadAt(10, "main", QuickCountWaiter(), QuickCountCreator());
  exiting.flags |= TL_THREAD_EXITING;
  OwnedSnapshot s({exiting});
  EXPECT_EQ(CountLeaksQuickly(s.snapshot, {}, symbolizer, true), 0u);
}

}  // namespace
}  // namespace threadleak
