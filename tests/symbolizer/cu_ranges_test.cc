// A file:line comes only from a compilation unit whose own address ranges hold the address.
// symbolizer_test_cu_ranges.so (cu_ranges/cu_ranges.h) has a unit listed in .debug_aranges, one
// left out of it and one without DWARF, in that order: libdwfl counts the code of the other two as
// the listed unit's, and its line table's last line came out for them — what every runtime.*
// frame of a Go program with cgo showed (/_/runtime/cgo/gcc_mmap.c:37).
#include <dlfcn.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/cu_ranges/cu_ranges.h"
#include "tests/symbolizer/test_support.h"

namespace symtest {
namespace {

using ::testing::EndsWith;
using threadleak::SourceFrame;
using threadleak::Symbolizer;

class CuRangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(SYMTEST_CU_RANGES, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  CuSite Call(const char* entry) {
    auto fn = reinterpret_cast<CuEntry>(dlsym(handle_, entry));
    EXPECT_NE(fn, nullptr) << entry;
    return fn != nullptr ? fn(&CaptureReturnAddress) : CuSite{};
  }

  void* handle_ = nullptr;
};

TEST_F(CuRangesTest, UnitListedInAranges) {
  const CuSite site = Call("cu_listed_site");
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, "cu_listed_site");
  EXPECT_THAT(frame.file, EndsWith("tests/symbolizer/cu_ranges/cu_listed.c"));
  EXPECT_EQ(frame.line, site.line);
}

TEST_F(CuRangesTest, UnitLeftOutOfArangesIsFoundByItsOwnRanges) {
  const CuSite site = Call("cu_unlisted_site");
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, "cu_unlisted_site");
  EXPECT_THAT(frame.file, EndsWith("tests/symbolizer/cu_ranges/cu_unlisted.c"));
  EXPECT_EQ(frame.line, site.line);
}

TEST_F(CuRangesTest, CodeWithoutDebugInfoHasNoLine) {
  const CuSite site = Call("cu_no_debug_site");
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.function, "cu_no_debug_site");  // from the symbol table
  EXPECT_EQ(frame.file, "");
  EXPECT_EQ(frame.line, 0);
}

}  // namespace
}  // namespace symtest
