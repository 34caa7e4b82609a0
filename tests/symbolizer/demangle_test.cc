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
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.isra.0"), "Outer::foo(int) [clone .isra.0]");
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.part.0.constprop.1"),
            "Outer::foo(int) [clone .part.0] [clone .constprop.1]");
}

TEST(DemangleTest, DropsLlvmSuffixes) {
  // ThinLTO's mark on a promoted local symbol: a hash, nothing to read.
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.llvm.6113587281720624371"), "Outer::foo(int)");
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.llvm.12.cold"), "Outer::foo(int) [clone .cold]");
}

TEST(DemangleTest, DemanglesBeforeASuffixItDoesNotKnow) {
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.Uniq$x"), "_ZN5Outer3fooEi.Uniq$x");  // not a suffix
  EXPECT_EQ(Demangle("_ZN5Outer3fooEi.Local.2"), "Outer::foo(int) [clone .Local.2]");
  // Rust's demangler takes any suffix, and drops it.
  EXPECT_EQ(Demangle("_ZN4leak4main17h0123456789abcdefE.cold.1"), "leak::main");
}

// The mangled names below are rustc 1.63's (Debian 12), from tests/symbolizer/programs/leak.rs.
TEST(DemangleTest, DemanglesLegacyRustNamesWithoutEscapesOrHash) {
  EXPECT_EQ(Demangle("_ZN4leak17Consumer$LT$T$GT$3run17hec49a2fbbd628eddE"),
            "leak::Consumer<T>::run");
  EXPECT_EQ(Demangle("_ZN4leak4main28_$u7b$$u7b$closure$u7d$$u7d$17h26d7350025faf872E"),
            "leak::main::{{closure}}");
  EXPECT_EQ(
      Demangle("_ZN104_$LT$core..iter..sources..from_fn..FromFn$LT$F$GT$$u20$as$u20$core.."
               "iter..traits..iterator..Iterator$GT$4next17h5029af7e7bac568fE"),
      "<core::iter::sources::from_fn::FromFn<F> as core::iter::traits::iterator::Iterator>::next");
}

TEST(DemangleTest, LlvmSuffixesDoNotStopRustDemangling) {
  EXPECT_EQ(Demangle("_ZN3std10sys_common9backtrace28__rust_begin_short_backtrace17h17e4bca391fbb02"
                     "dE.llvm.2994090366766793075"),
            "std::sys_common::backtrace::__rust_begin_short_backtrace");
  EXPECT_EQ(Demangle("_RNCINvNtCsdyIG5SqMl5y_3std2rt10lang_startuE0Cs3nG5cQELmqU_4leak.llvm."
                     "10672451726634968425"),
            "std::rt::lang_start::<()>::{closure#0}");
}

TEST(DemangleTest, DemanglesRustV0Names) {
  EXPECT_EQ(Demangle("_RNvMCs3nG5cQELmqU_4leakINtB2_8ConsumerlE3runB2_"),
            "<leak::Consumer<i32>>::run");
  EXPECT_EQ(Demangle("_RNvCs3nG5cQELmqU_4leak4main"), "leak::main");
  EXPECT_EQ(Demangle("_RNvMNtNtNtCsdyIG5SqMl5y_3std4sync4mpsc7oneshotINtB2_6PacketlE4recvCs3nG5cQ"
                     "ELmqU_4leak"),
            "<std::sync::mpsc::oneshot::Packet<i32>>::recv");
  EXPECT_EQ(Demangle("_RNvCs3nG5cQELmqU_4leak4main@@V1"), "leak::main");
}

TEST(DemangleTest, KeepsNamesThatOnlyLookRust) {
  EXPECT_EQ(Demangle("_Rnot_rust"), "_Rnot_rust");
  EXPECT_EQ(Demangle("_ZN4leak4mainE"), "leak::main");  // C++ (a variable's name)
}

}  // namespace
}  // namespace threadleak::symbolizer_internal
