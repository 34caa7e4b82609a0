// Golden tests for the symbolizer on code of this binary and of libc: each function below has a
// known name, and calls CaptureReturnAddress() on a known line (__LINE__ at the call site).
// Functions are noipa: no inlining, cloning or merging may change what a stack would show.
#include "symbolizer/symbolizer.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/symbolizer/test_support.h"

namespace symtest {

struct Site {
  uintptr_t return_address;
  int line;
};

__attribute__((noipa)) Site FreeFunction() {
  return {CaptureReturnAddress(), __LINE__};
}

class Writer {
 public:
  __attribute__((noipa)) Site process();
};

Site Writer::process() {
  return {CaptureReturnAddress(), __LINE__};
}

template <typename T>
__attribute__((noipa)) Site Twice(T value) {
  return {CaptureReturnAddress() + 0 * static_cast<uintptr_t>(value), __LINE__};
}

__attribute__((noipa)) Site LambdaHost() {
  auto lambda = [](int unused) __attribute__((noipa)) {
    return Site{CaptureReturnAddress(), __LINE__};
  };
  return lambda(0);
}

// Throws its return address, so that the caller can end with the call: nothing follows it, and
// the return address is the first byte after the caller.
struct Thrown {
  uintptr_t return_address;
};
[[noreturn]] __attribute__((noipa)) void ThrowReturnAddress() {
  throw Thrown{reinterpret_cast<uintptr_t>(__builtin_return_address(0))};
}

__attribute__((noipa)) void EndsWithNoreturnCall(int* line) {
  *line = __LINE__ + 1;
  ThrowReturnAddress();
}

// Its first instruction is the interrupted pc of a frame that was stopped on entry. That
// instruction belongs to the line of the signature, or, when there is no prologue (a leaf at
// -O1), to the first statement.
constexpr int kEntryFirstLine = __LINE__ + 1;
__attribute__((noipa)) int EntryProbe(int x) {
  return x * 3 + 1;
}
constexpr int kEntryLastLine = __LINE__ - 2;

}  // namespace symtest

namespace {

__attribute__((noipa)) symtest::Site worker(int) {
  return {symtest::CaptureReturnAddress(), __LINE__};
}

}  // namespace

namespace symtest {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using threadleak::SourceFrame;
using threadleak::Symbolizer;

constexpr char kThisFile[] = "tests/symbolizer/symbolizer_test.cc";

void ExpectSite(Symbolizer& symbolizer, const Site& site, const std::string& function) {
  const SourceFrame frame = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(frame.pc, site.return_address);
  EXPECT_EQ(frame.function, function);
  EXPECT_THAT(frame.file, EndsWith(kThisFile));
  EXPECT_EQ(frame.line, site.line);
  EXPECT_EQ(frame.module, RealPath("/proc/self/exe"));
}

TEST(SymbolizerTest, FreeFunction) {
  Symbolizer symbolizer;
  ExpectSite(symbolizer, FreeFunction(), "symtest::FreeFunction()");
}

TEST(SymbolizerTest, MemberFunctionInNamespace) {
  Symbolizer symbolizer;
  Writer writer;
  ExpectSite(symbolizer, writer.process(), "symtest::Writer::process()");
}

TEST(SymbolizerTest, AnonymousNamespaceFunction) {
  Symbolizer symbolizer;
  ExpectSite(symbolizer, worker(7), "(anonymous namespace)::worker(int)");
}

TEST(SymbolizerTest, TemplateInstantiation) {
  Symbolizer symbolizer;
  // A function template's mangled name carries its return type, and so does the demangled one.
  ExpectSite(symbolizer, Twice<int>(2), "symtest::Site symtest::Twice<int>(int)");
}

TEST(SymbolizerTest, Lambda) {
  Symbolizer symbolizer;
  ExpectSite(symbolizer, LambdaHost(),
             "symtest::LambdaHost()::{lambda(int)#1}::operator()(int) const");
}

// An interrupted pc is looked up as is; a return address at pc - 1. At a function's first byte
// the two differ: pc - 1 is in whatever precedes the function.
TEST(SymbolizerTest, InterruptedPcIsNotShifted) {
  Symbolizer symbolizer;
  const auto entry = reinterpret_cast<uintptr_t>(&EntryProbe);
  const SourceFrame frame = symbolizer.Symbolize(entry, false);
  EXPECT_EQ(frame.function, "symtest::EntryProbe(int)");
  EXPECT_THAT(frame.file, EndsWith(kThisFile));
  EXPECT_GE(frame.line, kEntryFirstLine);
  EXPECT_LE(frame.line, kEntryLastLine);
  EXPECT_NE(symbolizer.Symbolize(entry, true).function, "symtest::EntryProbe(int)");
}

// Only pc - 1 is sure to be inside the call: here pc itself is past the caller's last byte.
TEST(SymbolizerTest, ReturnAddressAfterNoreturnCall) {
  Site site{};
  try {
    EndsWithNoreturnCall(&site.line);
  } catch (const Thrown& thrown) {
    site.return_address = thrown.return_address;
  }
  ASSERT_NE(site.return_address, 0u);
  Symbolizer symbolizer;
  ExpectSite(symbolizer, site, "symtest::EndsWithNoreturnCall(int*)");
}

TEST(SymbolizerTest, LibcFunction) {
  // dlsym, not &getpid: in a non-PIE binary &getpid could be a PLT stub of this executable.
  const auto getpid_address = reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, "getpid"));
  ASSERT_NE(getpid_address, 0u);
  Symbolizer symbolizer;
  const SourceFrame frame = symbolizer.Symbolize(getpid_address, false);
  EXPECT_THAT(frame.module, HasSubstr("libc.so"));
  EXPECT_THAT(frame.function, HasSubstr("getpid"));
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(getpid_address), &info), 0);
  EXPECT_EQ(frame.pc - frame.module_offset, reinterpret_cast<uintptr_t>(info.dli_fbase));

  // With libc's .symtab (libc6-dbg) this symbol is "pthread_cond_wait@@GLIBC_2.3.2".
  const auto wait_address = reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, "pthread_cond_wait"));
  const SourceFrame wait = symbolizer.Symbolize(wait_address, false);
  EXPECT_THAT(wait.function, HasSubstr("pthread_cond_wait"));
  EXPECT_THAT(wait.function, Not(HasSubstr("@")));
}

TEST(SymbolizerTest, AddressesOutsideAnyModule) {
  const long page = sysconf(_SC_PAGESIZE);
  void* anonymous = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(anonymous, MAP_FAILED);
  void* unmapped = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(unmapped, MAP_FAILED);
  ASSERT_EQ(munmap(unmapped, page), 0);

  int on_stack = 0;  // above every module: libdwfl alone would call it part of the last one

  Symbolizer symbolizer;
  for (const uintptr_t pc :
       {uintptr_t{0}, uintptr_t{1}, reinterpret_cast<uintptr_t>(anonymous) + 16,
        reinterpret_cast<uintptr_t>(unmapped) + 16, reinterpret_cast<uintptr_t>(&on_stack),
        ~uintptr_t{0}}) {
    for (const bool is_return_address : {false, true}) {
      SCOPED_TRACE(testing::Message() << std::hex << "pc 0x" << pc << " ra " << is_return_address);
      const SourceFrame frame = symbolizer.Symbolize(pc, is_return_address);
      EXPECT_EQ(frame.pc, pc);
      EXPECT_EQ(frame.function, "");
      EXPECT_EQ(frame.file, "");
      EXPECT_EQ(frame.line, 0);
      EXPECT_EQ(frame.module, "");
    }
  }
  // The symbolizer still works after all those misses.
  EXPECT_EQ(symbolizer.Symbolize(FreeFunction().return_address, true).function,
            "symtest::FreeFunction()");
  munmap(anonymous, page);
}

TEST(SymbolizerTest, RepeatedLookupsAgree) {
  Symbolizer symbolizer;
  const Site site = FreeFunction();
  const SourceFrame first = symbolizer.Symbolize(site.return_address, true);
  EXPECT_EQ(symbolizer.Symbolize(site.return_address, true), first);
  // The cache tells the two kinds of lookup apart.
  const auto entry = reinterpret_cast<uintptr_t>(&EntryProbe);
  EXPECT_EQ(symbolizer.Symbolize(entry, false).function, "symtest::EntryProbe(int)");
  EXPECT_NE(symbolizer.Symbolize(entry, true).function, "symtest::EntryProbe(int)");
  EXPECT_EQ(symbolizer.Symbolize(entry, false).function, "symtest::EntryProbe(int)");
}

TEST(SymbolizerTest, ConcurrentCallersAgree) {
  Writer writer;
  const std::vector<std::pair<uintptr_t, bool>> lookups = {
      {FreeFunction().return_address, true},
      {writer.process().return_address, true},
      {worker(1).return_address, true},
      {Twice<long>(3).return_address, true},
      {LambdaHost().return_address, true},
      {reinterpret_cast<uintptr_t>(&EntryProbe), false},
      {reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, "getpid")), false},
      {reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, "malloc")), false},
      {1, true},
  };
  std::vector<SourceFrame> expected;
  {
    Symbolizer reference;
    for (const auto& [pc, is_return_address] : lookups) {
      expected.push_back(reference.Symbolize(pc, is_return_address));
    }
  }
  ASSERT_EQ(expected[0].function, "symtest::FreeFunction()");

  // A fresh symbolizer, so that set-up and the first (uncached) lookups race too.
  constexpr int kThreads = 4;
  constexpr int kRounds = 50;
  Symbolizer shared;
  std::latch start(kThreads);
  std::vector<std::vector<SourceFrame>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        // Each thread walks the list from a different place, so they collide on cold entries.
        for (size_t i = 0; i < lookups.size(); ++i) {
          const auto& [pc, is_return_address] = lookups[(i + t) % lookups.size()];
          results[t].push_back(shared.Symbolize(pc, is_return_address));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), kRounds * lookups.size());
    for (size_t k = 0; k < results[t].size(); ++k) {
      const size_t i = (k % lookups.size() + t) % lookups.size();
      ASSERT_EQ(results[t][k], expected[i]) << "thread " << t << " lookup " << k;
    }
  }
}

}  // namespace
}  // namespace symtest
