// A rough timing, not a test: run with --gtest_also_run_disabled_tests
// --gtest_filter='*Timing*'. Symbolizes 1,000 distinct addresses spread over libc's code (the
// largest module at hand with DWARF, when libc6-dbg is installed) and over this binary's, cold
// then cached, and prints the cost per address.
#include <dlfcn.h>
#include <link.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "symbolizer/symbolizer.h"
#include "tests/symbolizer/test_support.h"

namespace symtest {
namespace {

struct CodeRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
};

// The executable segment of the object that contains `address`.
CodeRange CodeOf(const void* address) {
  struct Search {
    uintptr_t address;
    CodeRange found;
  } search{reinterpret_cast<uintptr_t>(address), {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (s->address >= begin && s->address < begin + ph.p_memsz) {
            s->found = {begin, begin + ph.p_memsz};
            return 1;
          }
        }
        return 0;
      },
      &search);
  return search.found;
}

std::vector<uintptr_t> Spread(const CodeRange& range, size_t count) {
  std::vector<uintptr_t> pcs;
  const uintptr_t step = (range.end - range.begin) / count;
  for (size_t i = 0; i < count; ++i) pcs.push_back(range.begin + i * step + 1);
  return pcs;
}

double MicrosPerAddress(threadleak::Symbolizer& symbolizer, const std::vector<uintptr_t>& pcs,
                        size_t* named) {
  *named = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const uintptr_t pc : pcs) {
    if (!symbolizer.Symbolize(pc, true).function.empty()) ++*named;
  }
  const std::chrono::duration<double, std::micro> elapsed =
      std::chrono::steady_clock::now() - start;
  return elapsed.count() / pcs.size();
}

void Time(const char* what, const std::vector<uintptr_t>& pcs) {
  threadleak::Symbolizer symbolizer;
  const auto start = std::chrono::steady_clock::now();
  symbolizer.Symbolize(CaptureReturnAddress(), true);  // set-up, and this binary's first lookup
  const std::chrono::duration<double, std::milli> setup = std::chrono::steady_clock::now() - start;
  size_t named = 0;
  const double cold = MicrosPerAddress(symbolizer, pcs, &named);
  size_t named_again = 0;
  const double cached = MicrosPerAddress(symbolizer, pcs, &named_again);
  std::printf(
      "%-12s set-up+first %.2f ms; %zu addresses (%zu named): cold %.1f us, cached %.2f us each\n",
      what, setup.count(), pcs.size(), named, cold, cached);
  EXPECT_EQ(named, named_again);
}

TEST(SymbolizerTiming, DISABLED_DistinctAddresses) {
  Time("libc", Spread(CodeOf(dlsym(RTLD_DEFAULT, "getpid")), 1000));
  Time("test binary", Spread(CodeOf(reinterpret_cast<void*>(&CaptureReturnAddress)), 1000));
}

}  // namespace
}  // namespace symtest
