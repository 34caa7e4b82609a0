// Golden tests for inline frames. This file is built at -O2, and the functions below are forced
// inline: an address inside them must expand into one frame per inlined call, innermost first,
// each with its own function and the file:line of its call site (what `eu-addr2line -i` prints).
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_support.h"

#define INLINE_ALWAYS __attribute__((always_inline)) inline
#define KEEP_FRAME() asm volatile("" ::: "memory")
// Records the line of `call` (one line, whatever clang-format does) in chain->lines[index].
#define CALL_AT_LINE(chain, index, call) \
  do {                                   \
    (chain)->lines[index] = __LINE__;    \
    call;                                \
  } while (0)
#define CAPTURE(chain) CALL_AT_LINE(chain, 0, (chain)->return_address = CaptureReturnAddress())

namespace symtest::inlined {

// Lines of the three calls of one capture: the capture itself, and the two calls leading to it.
struct Chain {
  uintptr_t return_address = 0;
  int lines[3] = {};
};

INLINE_ALWAYS void Innermost(Chain* chain) {
  CAPTURE(chain);
  KEEP_FRAME();
}

INLINE_ALWAYS void Middle(Chain* chain) {
  CALL_AT_LINE(chain, 1, Innermost(chain));
  KEEP_FRAME();
}

__attribute__((noipa)) void Outer(Chain* chain) {
  CALL_AT_LINE(chain, 2, Middle(chain));
  KEEP_FRAME();
}

template <typename T>
INLINE_ALWAYS T TemplateStep(T value, Chain* chain) {
  CAPTURE(chain);
  KEEP_FRAME();
  return value + 1;
}

__attribute__((noipa)) long TemplateHost(Chain* chain) {
  long result = 0;
  CALL_AT_LINE(chain, 1, result = TemplateStep<long>(41, chain));
  KEEP_FRAME();
  return result;
}

__attribute__((noipa)) void LambdaHost(Chain* chain) {
  auto lambda = [chain]() __attribute__((always_inline)) {
    CAPTURE(chain);
    KEEP_FRAME();
  };
  CALL_AT_LINE(chain, 1, lambda());
  KEEP_FRAME();
}

}  // namespace symtest::inlined

namespace {

INLINE_ALWAYS void HiddenInline(symtest::inlined::Chain* chain) {
  CALL_AT_LINE(chain, 0, chain->return_address = symtest::CaptureReturnAddress());
  KEEP_FRAME();
}

__attribute__((noipa)) void HiddenHost(symtest::inlined::Chain* chain) {
  CALL_AT_LINE(chain, 1, HiddenInline(chain));
  KEEP_FRAME();
}

}  // namespace

namespace symtest::inlined {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using threadleak::SourceFrame;
using threadleak::Symbolizer;

constexpr char kThisFile[] = "tests/symbolizer/inline_test.cc";

struct Expected {
  std::string function;
  int line;
  bool inlined;
};

void ExpectFrames(const std::vector<SourceFrame>& frames, const std::vector<Expected>& expected) {
  ASSERT_EQ(frames.size(), expected.size()) << testing::PrintToString(frames);
  for (size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i) + ": " + testing::PrintToString(frames[i]));
    EXPECT_EQ(frames[i].function, expected[i].function);
    EXPECT_THAT(frames[i].file, EndsWith(kThisFile));
    EXPECT_EQ(frames[i].line, expected[i].line);
    EXPECT_EQ(frames[i].inlined, expected[i].inlined);
    // One pc, one module, however many frames.
    EXPECT_EQ(frames[i].pc, frames.back().pc);
    EXPECT_EQ(frames[i].module, RealPath("/proc/self/exe"));
    EXPECT_EQ(frames[i].module_offset, frames.back().module_offset);
  }
}

TEST(InlineFramesTest, TwoLevelsOfInlining) {
  Chain chain;
  Outer(&chain);
  Symbolizer symbolizer;
  ExpectFrames(symbolizer.SymbolizeInline(chain.return_address, true),
               {{"symtest::inlined::Innermost(symtest::inlined::Chain*)", chain.lines[0], true},
                {"symtest::inlined::Middle(symtest::inlined::Chain*)", chain.lines[1], true},
                {"symtest::inlined::Outer(symtest::inlined::Chain*)", chain.lines[2], false}});
  // The single-frame answer is the function the code belongs to, at its line there.
  const SourceFrame outer = symbolizer.Symbolize(chain.return_address, true);
  EXPECT_EQ(outer.function, "symtest::inlined::Outer(symtest::inlined::Chain*)");
  EXPECT_EQ(outer.line, chain.lines[2]);
  EXPECT_FALSE(outer.inlined);
}

TEST(InlineFramesTest, InlinedTemplate) {
  Chain chain;
  TemplateHost(&chain);
  Symbolizer symbolizer;
  ExpectFrames(
      symbolizer.SymbolizeInline(chain.return_address, true),
      {{"long symtest::inlined::TemplateStep<long>(long, symtest::inlined::Chain*)", chain.lines[0],
        true},
       {"symtest::inlined::TemplateHost(symtest::inlined::Chain*)", chain.lines[1], false}});
}

// GCC gives an inlined lambda no linkage name either: the name is rebuilt from the DWARF in the
// demangler's words (the closure is the function's first unnamed class), without parameters.
TEST(InlineFramesTest, InlinedLambda) {
  Chain chain;
  LambdaHost(&chain);
  Symbolizer symbolizer;
  ExpectFrames(symbolizer.SymbolizeInline(chain.return_address, true),
               {{"symtest::inlined::LambdaHost(symtest::inlined::Chain*)::{lambda()#1}::operator()",
                 chain.lines[0], true},
                {"symtest::inlined::LambdaHost(symtest::inlined::Chain*)", chain.lines[1], false}});
}

// GCC gives a function of an anonymous namespace no linkage name: the inlined frame's name is
// rebuilt from the DWARF, without parameters.
TEST(InlineFramesTest, InlinedFunctionOfAnAnonymousNamespace) {
  Chain chain;
  HiddenHost(&chain);
  Symbolizer symbolizer;
  ExpectFrames(
      symbolizer.SymbolizeInline(chain.return_address, true),
      {{"(anonymous namespace)::HiddenInline", chain.lines[0], true},
       {"(anonymous namespace)::HiddenHost(symtest::inlined::Chain*)", chain.lines[1], false}});
}

TEST(InlineFramesTest, MangledNamesWhenAskedNotToDemangle) {
  Chain chain;
  Outer(&chain);
  threadleak::SymbolizerOptions options;
  options.demangle = false;
  Symbolizer symbolizer(options);
  const std::vector<SourceFrame> frames = symbolizer.SymbolizeInline(chain.return_address, true);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].function, "_ZN7symtest7inlined9InnermostEPNS0_5ChainE");
  EXPECT_EQ(frames[2].function, "_ZN7symtest7inlined5OuterEPNS0_5ChainE");
}

// Every address of Outer's code, looked up one by one, gives a chain that ends in Outer, and the
// chains agree with what the same symbolizer answers from its cache.
TEST(InlineFramesTest, EveryAddressOfAFunctionEndsInIt) {
  Chain chain;
  Outer(&chain);
  Symbolizer symbolizer;
  const auto start = reinterpret_cast<uintptr_t>(&Outer);
  for (uintptr_t pc = start; pc < start + 24; ++pc) {
    SCOPED_TRACE(testing::Message() << std::hex << "pc 0x" << pc);
    const std::vector<SourceFrame> frames = symbolizer.SymbolizeInline(pc, false);
    EXPECT_THAT(frames.back().function, HasSubstr("Outer"));
    EXPECT_FALSE(frames.back().inlined);
    for (size_t i = 0; i + 1 < frames.size(); ++i) EXPECT_TRUE(frames[i].inlined);
    EXPECT_EQ(symbolizer.SymbolizeInline(pc, false), frames);
  }
}

}  // namespace
}  // namespace symtest::inlined
