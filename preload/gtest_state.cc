#include "preload/gtest_state.h"

#include <errno.h>

#include <atomic>

#include "preload/elf_symbol.h"
#include "preload/gtest_layout.h"
#include "preload/process_memory.h"

namespace threadleak {
namespace {

using gtest_layout::LooksLikePointer;

constexpr const char kInstanceSymbol[] = "_ZZN7testing8UnitTest11GetInstanceEvE8instance";
// How much of UnitTest is searched for impl_ (a vtable, a mutex, then impl_ at 64 in 1.12), and
// of UnitTestImpl for the current suite and test (at 360 in 1.12).
constexpr size_t kUnitTestWords = 32;
constexpr uintptr_t kImplScanBytes = 2048;

enum Lookup : int { kNotLooked, kLooking, kAbsent, kFound };

struct State {
  std::atomic<int> lookup{kNotLooked};
  std::atomic<uintptr_t> instance{0};
  std::atomic<uintptr_t> impl{0};            // UnitTestImpl*, once constructed (it never changes)
  std::atomic<intptr_t> current_offset{-1};  // of current_test_suite_ in UnitTestImpl
};
constinit State g_state;

// Saves errno and gives it back: the hook's caller must see the errno libc left.
class ErrnoKeeper {
 public:
  ErrnoKeeper() : saved_(errno) {}
  ~ErrnoKeeper() { errno = saved_; }
  ErrnoKeeper(const ErrnoKeeper&) = delete;
  ErrnoKeeper& operator=(const ErrnoKeeper&) = delete;

 private:
  int saved_;
};

uintptr_t LookUpInstance() {
  uintptr_t instance = FindDataSymbolInExecutable(kInstanceSymbol);
  if (instance == 0) instance = FindDataSymbolInModulesNamed("gtest", kInstanceSymbol);
  return instance;
}

// True when the instance is found (or known to be absent); false while another thread looks.
bool InstanceLookedUp() {
  int lookup = g_state.lookup.load(std::memory_order_acquire);
  if (lookup == kNotLooked &&
      g_state.lookup.compare_exchange_strong(lookup, kLooking, std::memory_order_acq_rel)) {
    uintptr_t instance = LookUpInstance();
    g_state.instance.store(instance, std::memory_order_relaxed);
    lookup = instance != 0 ? kFound : kAbsent;
    g_state.lookup.store(lookup, std::memory_order_release);
  }
  return lookup == kFound;
}

enum class Impl { kFound, kNotConstructed, kNotUnderstood };

// UnitTest's impl_: the word pointing to an object whose word after its vtable (parent_) points
// back to the instance. A zero instance has not been constructed (static storage starts zero).
Impl FindImpl(uintptr_t instance, uintptr_t* impl) {
  uintptr_t words[kUnitTestWords];
  if (!ReadProcessMemory(instance, &words)) return Impl::kNotUnderstood;
  bool all_zero = true;
  for (uintptr_t word : words) all_zero = all_zero && word == 0;
  if (all_zero) return Impl::kNotConstructed;
  for (size_t i = 1; i < kUnitTestWords; ++i) {
    uintptr_t parent = 0;
    if (LooksLikePointer(words[i]) && words[i] % 8 == 0 &&
        ReadProcessMemory(words[i] + 8, &parent) && parent == instance) {
      *impl = words[i];
      return Impl::kFound;
    }
  }
  return Impl::kNotUnderstood;
}

// The offset of the (current_test_suite_, current_test_info_) pair in UnitTestImpl, when a test
// runs now; -1 when no pair of words in the first kImplScanBytes is a suite and one of its tests.
intptr_t CalibrateCurrentOffset(uintptr_t impl) {
  uintptr_t words[33];  // one chunk of 32, after the last word of the previous chunk
  words[32] = 0;
  for (uintptr_t chunk = 0; chunk < kImplScanBytes; chunk += 32 * 8) {
    words[0] = words[32];
    if (ReadProcessBytes(impl + chunk, words + 1, 32 * 8) != 32 * 8) return -1;
    for (size_t i = chunk == 0 ? 1 : 0; i < 32; ++i) {
      // words[i] sits at impl + chunk + (i - 1) * 8.
      if (words[i + 1] != 0 && gtest_layout::IsSuiteAndTest(words[i], words[i + 1])) {
        return static_cast<intptr_t>(chunk + (i - 1) * 8);
      }
    }
  }
  return -1;
}

}  // namespace

GoogleTestNow ReadGoogleTestNow() {
  ErrnoKeeper keep_errno;
  GoogleTestNow now;
  if (!InstanceLookedUp()) return now;
  uintptr_t impl = g_state.impl.load(std::memory_order_acquire);
  if (impl == 0) {
    switch (FindImpl(g_state.instance.load(std::memory_order_relaxed), &impl)) {
      case Impl::kNotConstructed:
        // GoogleTest has not registered a single test yet: none can run.
        now.kind = GoogleTestLayoutConfirmed() ? GoogleTestNow::kNoTest
                                               : GoogleTestNow::kNoTestUnconfirmed;
        return now;
      case Impl::kNotUnderstood:
        return now;
      case Impl::kFound:
        g_state.impl.store(impl, std::memory_order_release);
        break;
    }
  }
  intptr_t offset = g_state.current_offset.load(std::memory_order_acquire);
  if (offset < 0) {
    offset = CalibrateCurrentOffset(impl);
    if (offset < 0) {
      now.kind = GoogleTestNow::kNoTestUnconfirmed;
      return now;
    }
    g_state.current_offset.store(offset, std::memory_order_release);
  }
  uintptr_t current[2];  // current_test_suite_, current_test_info_
  if (!ReadProcessMemory(impl + static_cast<uintptr_t>(offset), &current)) return now;
  now.test_suite = current[0];
  now.test_info = current[1];
  if (current[1] == 0) {
    now.kind = GoogleTestNow::kNoTest;
  } else if (gtest_layout::ReadTestName(current[1], now.name, sizeof now.name)) {
    now.kind = GoogleTestNow::kTest;
  }
  return now;
}

bool GoogleTestLayoutConfirmed() {
  return g_state.current_offset.load(std::memory_order_acquire) >= 0;
}

void ResetGoogleTestStateForTesting(uintptr_t instance) {
  g_state.instance.store(instance, std::memory_order_relaxed);
  g_state.impl.store(0, std::memory_order_relaxed);
  g_state.current_offset.store(-1, std::memory_order_relaxed);
  g_state.lookup.store(instance != 0 ? kFound : kNotLooked, std::memory_order_release);
}

}  // namespace threadleak
