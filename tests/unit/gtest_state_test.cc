// The shim's reading of GoogleTest's state (preload/test_frameworks/gtest_state.h) against
// GoogleTest itself: this test binary is a GoogleTest program, so what the shim reads from memory
// must equal what GoogleTest's own API answers.
#include "preload/test_frameworks/gtest_state.h"

#include <errno.h>

#include <gtest/gtest.h>

#include <string>

#include "preload/test_frameworks/elf_symbol.h"
#include "preload/test_frameworks/gtest_layout.h"

namespace threadleak {
namespace {

constexpr const char kInstanceSymbol[] = "_ZZN7testing8UnitTest11GetInstanceEvE8instance";

TEST(ElfSymbol, FindsGoogleTestsSingletonInTheExecutablesSymbolTable) {
  EXPECT_EQ(FindDataSymbolInExecutable(kInstanceSymbol),
            reinterpret_cast<uintptr_t>(testing::UnitTest::GetInstance()));
}

TEST(ElfSymbol, FindsNothingForAnUnknownNameOrAFunction) {
  EXPECT_EQ(FindDataSymbolInExecutable("_ZZN7testing8UnitTest11GetInstanceEvE9no_such"), 0u);
  // A function, not a data object.
  EXPECT_EQ(FindDataSymbolInExecutable("_ZN7testing8UnitTest11GetInstanceEv"), 0u);
  // No module named so.
  EXPECT_EQ(FindDataSymbolInModulesNamed("no-such-module", kInstanceSymbol), 0u);
}

TEST(ElfSymbol, ReadsAModuleFoundInTheMappings) {
  // libc's .symtab is stripped in Debian: nothing found, nothing crashes.
  EXPECT_EQ(FindDataSymbolInModulesNamed("libc.so", "_IO_stdin_used_no_such"), 0u);
}

TEST(ElfSymbol, RefusesFilesThatAreNotElf) {
  EXPECT_EQ(FindDataSymbol("/proc/self/maps", 0x400000, kInstanceSymbol), 0u);
  EXPECT_EQ(FindDataSymbol("/dev/null", 0x400000, kInstanceSymbol), 0u);
  EXPECT_EQ(FindDataSymbol("/no/such/file", 0x400000, kInstanceSymbol), 0u);
}

class GoogleTestStateTest : public testing::Test {
 protected:
  void SetUp() override { ResetGoogleTestStateForTesting(0); }
  void TearDown() override { ResetGoogleTestStateForTesting(0); }
};

TEST_F(GoogleTestStateTest, ReadsTheRunningTestAsGoogleTestAnswers) {
  GoogleTestNow now = ReadGoogleTestNow();
  ASSERT_EQ(now.kind, GoogleTestNow::kTest);
  EXPECT_EQ(now.test_info,
            reinterpret_cast<uintptr_t>(testing::UnitTest::GetInstance()->current_test_info()));
  EXPECT_EQ(now.test_suite,
            reinterpret_cast<uintptr_t>(testing::UnitTest::GetInstance()->current_test_suite()));
  EXPECT_TRUE(GoogleTestLayoutConfirmed());
  // Calibrated: the second read takes the known offset.
  GoogleTestNow again = ReadGoogleTestNow();
  EXPECT_EQ(again.kind, GoogleTestNow::kTest);
  EXPECT_EQ(again.test_info, now.test_info);
  EXPECT_STREQ(again.name, now.name);  // from the name cache
  EXPECT_STREQ(again.name, "GoogleTestStateTest.ReadsTheRunningTestAsGoogleTestAnswers");
}

TEST_F(GoogleTestStateTest, CopiesTheRunningTestsName) {
  GoogleTestNow now = ReadGoogleTestNow();
  ASSERT_EQ(now.kind, GoogleTestNow::kTest);
  EXPECT_STREQ(now.name, "GoogleTestStateTest.CopiesTheRunningTestsName");
}

TEST_F(GoogleTestStateTest, ALongNameIsCutToFitAndSaysSo) {
  GoogleTestNow now = ReadGoogleTestNow();
  ASSERT_EQ(now.kind, GoogleTestNow::kTest);
  char cut[16];
  ASSERT_TRUE(gtest_layout::ReadTestName(now.test_info, cut, sizeof cut));
  EXPECT_STREQ(cut, "GoogleTestSt...");
  char whole[TL_TEST_NAME_LEN];
  ASSERT_TRUE(gtest_layout::ReadTestName(now.test_info, whole, sizeof whole));
  EXPECT_STREQ(whole, "GoogleTestStateTest.ALongNameIsCutToFitAndSaysSo");
}

TEST_F(GoogleTestStateTest, OnlyASuiteAndOneOfItsTestsPassForTheRunningPair) {
  GoogleTestNow now = ReadGoogleTestNow();
  ASSERT_EQ(now.kind, GoogleTestNow::kTest);
  using gtest_layout::IsSuiteAndTest;
  EXPECT_TRUE(IsSuiteAndTest(now.test_suite, now.test_info));
  EXPECT_FALSE(IsSuiteAndTest(now.test_suite, now.test_info + 8));
  EXPECT_FALSE(IsSuiteAndTest(now.test_info, now.test_suite));
  EXPECT_FALSE(IsSuiteAndTest(0, now.test_info));
  EXPECT_FALSE(IsSuiteAndTest(now.test_suite, 0x10));
  // A test of another suite.
  const testing::TestSuite* other = testing::UnitTest::GetInstance()->GetTestSuite(0);
  if (reinterpret_cast<uintptr_t>(other) == now.test_suite) {
    other = testing::UnitTest::GetInstance()->GetTestSuite(1);
  }
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(IsSuiteAndTest(reinterpret_cast<uintptr_t>(other), now.test_info));
  char name[TL_TEST_NAME_LEN];
  EXPECT_FALSE(gtest_layout::ReadTestName(now.test_suite, name, sizeof name));
}

TEST_F(GoogleTestStateTest, NoInstanceWhereTheSymbolIsNotReadsUnknown) {
  static uintptr_t not_google_test[32] = {};  // a zero object: "not constructed"
  ResetGoogleTestStateForTesting(reinterpret_cast<uintptr_t>(not_google_test));
  EXPECT_EQ(ReadGoogleTestNow().kind, GoogleTestNow::kNoTestUnconfirmed);
  static uintptr_t garbage[32];
  for (uintptr_t& word : garbage) word = 0x1234;
  ResetGoogleTestStateForTesting(reinterpret_cast<uintptr_t>(garbage));
  EXPECT_EQ(ReadGoogleTestNow().kind, GoogleTestNow::kUnknown);
}

TEST_F(GoogleTestStateTest, ReadingLeavesErrnoAsItWas) {
  // The first read looks the singleton up (files opened, read, mapped); later ones read memory.
  errno = 4321;
  EXPECT_EQ(ReadGoogleTestNow().kind, GoogleTestNow::kTest);
  EXPECT_EQ(errno, 4321);
  // An address that cannot be read: process_vm_readv fails with EFAULT.
  ResetGoogleTestStateForTesting(0x1000);
  errno = 4321;
  EXPECT_EQ(ReadGoogleTestNow().kind, GoogleTestNow::kUnknown);
  EXPECT_EQ(errno, 4321);
}

// A parameterized test is named as GoogleTest prints it.
class Parameterized : public testing::TestWithParam<int> {};
TEST_P(Parameterized, IsNamedWithItsPrefixAndIndex) {
  ResetGoogleTestStateForTesting(0);
  GoogleTestNow now = ReadGoogleTestNow();
  ASSERT_EQ(now.kind, GoogleTestNow::kTest);
  const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
  EXPECT_EQ(now.name, std::string(info->test_suite_name()) + "." + info->name());
  EXPECT_EQ(std::string(now.name).rfind("Values/Parameterized.IsNamedWithItsPrefixAndIndex/", 0),
            0u);
}
INSTANTIATE_TEST_SUITE_P(Values, Parameterized, testing::Values(1, 2));

}  // namespace
}  // namespace threadleak
