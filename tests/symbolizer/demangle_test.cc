// Unit tests for symbol-name clean-up: what a report shows for names straight from .symtab.
#include "symbolizer/demangle.h"

#include <gtest/gtest.h>

namespace threadleak::symbolizer_internal {
namespace {

TEST(DemangleTest, DemanglesItaniumNames) {
  EXPECT_EQ(Demangle("_ZN7symtest6Writer7processEv"), "symtest::Writer::process()");
  EXPECT_EQ(Demangle("_ZN12_GLOBAL__N_16workerEi"), "(anonymous namespace)::worker(int)");
}

TEST(DemangleTest, KeepsCNamesThatLookLikeTypeCodes) {
  EXPECT_EQ(Demangle("f"), "f");
  EXPECT_EQ(Demangle("i"), "i");
  EXPECT_EQ(Demangle("getpid"), "getpid");
}

TEST(DemangleTest, DropsSymbolVersions) {
  EXPECT_EQ(Demangle("pthread_cond_wait@@GLIBC_2.3.2"), "pthread_cond_wait");
  EXPECT_EQ(Demangle("pthread_create@GLIBC_2.2.5"), "pthread_create");
  EXPECT_EQ(Demangle("_ZSt9terminatev@@GLIBCXX_3.4"), "std::terminate()");
}

TEST(DemangleTest, KeepsWhatItCannotDemangle) {
  EXPECT_EQ(Demangle("_Znot_a_mangled_name"), "_Znot_a_mangled_name");
  EXPECT_EQ(Demangle(""), "");
  EXPECT_EQ(Demangle(nullptr), "");
}

TEST(DemangleTest, ShowsCloneSuffixes) {
  EXPECT_EQ(Demangle("_Z3foov.cold"), "foo() [clone .cold]");
}

}  // namespace
}  // namespace threadleak::symbolizer_internal
