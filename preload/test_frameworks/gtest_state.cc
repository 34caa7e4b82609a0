#include "preload/test_frameworks/gtest_state.h"

#include <errno.h>
#include <string.h>

#include <atomic>

#include "preload/capture/process_memory.h"
#include "preload/core/guard.h"
#include "preload/test_frameworks/elf_symbol.h"
#include "preload/test_frameworks/gtest_layout.h"

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
// The words are read as far as they can be: UnitTest is 80 bytes in 1.12, and the window past it
// may cross into an unmapped page at the end of the executable's data (a whole-window read failed
// there, and GoogleTest went unseen in a binary whose .bss happened to end 176 bytes after it).
Impl FindImpl(uintptr_t instance, uintptr_t* impl) {
  uintptr_t words[kUnitTestWords];
  const ssize_t got = ReadProcessBytes(instance, words, sizeof words);
  if (got < 16) return Impl::kNotUnderstood;
  const size_t count = static_cast<size_t>(got) / 8;
  bool all_zero = true;
  for (size_t i = 0; i < count; ++i) all_zero = all_zero && words[i] == 0;
  if (all_zero) return Impl::kNotConstructed;
  for (size_t i = 1; i < count; ++i) {
    uintptr_t parent = 0;
    if (LooksLikePointer(words[i]) && words[i] % 8 == 0 &&
        ReadProcessMemory(words[i] + 8, &parent) && parent == instance) {
      *impl = words[i];
      return Impl::kFound;
    }
  }
  return Impl::kNotUnderstood;
}

// The calibration's memory: the last region of UnitTestImpl a scan found no running test in. A
// scan that reads the very same words has nothing new to check (before the first test, the
// creations of a program's start-up each cost one read, not a scan). Guarded by `busy`.
struct ScanMemory {
  std::atomic<bool> busy{false};
  size_t last_size = 0;  // bytes of `last`, 0: none
  uintptr_t last[kImplScanBytes / 8] = {};
  uintptr_t words[kImplScanBytes / 8] = {};
};
constinit ScanMemory g_scan;

enum class Scan { kFound, kNoTest, kCannotTell };

// Looks for the (current_test_suite_, current_test_info_) pair in UnitTestImpl's first
// kImplScanBytes: the one pair of words that is a suite and one of its tests. kNoTest only when
// every pair was read and none is (no test runs, or the layout is not GoogleTest's known one);
// kCannotTell when the memory could not be read or another thread is scanning.
Scan CalibrateCurrentOffset(uintptr_t impl, intptr_t* offset) {
  if (g_scan.busy.exchange(true, std::memory_order_acquire)) return Scan::kCannotTell;
  Scan result = Scan::kCannotTell;
  ssize_t got = ReadProcessBytes(impl, g_scan.words, sizeof g_scan.words);
  if (got >= 32) {
    const size_t size = static_cast<size_t>(got) & ~size_t{7};
    if (size == g_scan.last_size && memcmp(g_scan.words, g_scan.last, size) == 0) {
      result = Scan::kNoTest;
    } else {
      result = Scan::kNoTest;
      for (size_t i = 2; i + 1 < size / 8; ++i) {  // after the vtable and parent_
        if (g_scan.words[i + 1] != 0 &&
            gtest_layout::IsSuiteAndTest(g_scan.words[i], g_scan.words[i + 1])) {
          *offset = static_cast<intptr_t>(i * 8);
          result = Scan::kFound;
          break;
        }
      }
      if (result == Scan::kNoTest && size < sizeof g_scan.words) {
        result = Scan::kCannotTell;  // the pair may lie in what could not be read
      } else if (result == Scan::kNoTest) {
        memcpy(g_scan.last, g_scan.words, size);
        g_scan.last_size = size;
      }
    }
  }
  g_scan.busy.store(false, std::memory_order_release);
  return result;
}

// The name of the TestInfo creations saw last: threads created in one test cost no name read
// after the first. A sequence lock (odd while written); readers never wait, and a reader that
// races with a writer reads the name itself.
struct NameCache {
  std::atomic<uint32_t> sequence{0};
  std::atomic<uintptr_t> test_info{0};
  std::atomic<uint64_t> name[TL_TEST_NAME_LEN / 8] = {};
};
constinit NameCache g_name_cache;
static_assert(TL_TEST_NAME_LEN % 8 == 0);

bool CachedName(uintptr_t test_info, char* out) {
  uint32_t before = g_name_cache.sequence.load(std::memory_order_acquire);
  if ((before & 1) != 0 || g_name_cache.test_info.load(std::memory_order_relaxed) != test_info) {
    return false;
  }
  uint64_t words[TL_TEST_NAME_LEN / 8];
  for (size_t i = 0; i < TL_TEST_NAME_LEN / 8; ++i) {
    words[i] = g_name_cache.name[i].load(std::memory_order_relaxed);
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  if (g_name_cache.sequence.load(std::memory_order_relaxed) != before) return false;
  memcpy(out, words, TL_TEST_NAME_LEN);
  return true;
}

void CacheName(uintptr_t test_info, const char* name) {
  uint32_t sequence = g_name_cache.sequence.load(std::memory_order_relaxed);
  if ((sequence & 1) != 0 || !g_name_cache.sequence.compare_exchange_strong(
                                 sequence, sequence + 1, std::memory_order_acquire)) {
    return;  // another thread writes it
  }
  std::atomic_thread_fence(std::memory_order_release);
  g_name_cache.test_info.store(test_info, std::memory_order_relaxed);
  uint64_t words[TL_TEST_NAME_LEN / 8];
  memcpy(words, name, TL_TEST_NAME_LEN);
  for (size_t i = 0; i < TL_TEST_NAME_LEN / 8; ++i) {
    g_name_cache.name[i].store(words[i], std::memory_order_relaxed);
  }
  g_name_cache.sequence.store(sequence + 2, std::memory_order_release);
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
    switch (CalibrateCurrentOffset(impl, &offset)) {
      case Scan::kCannotTell:
        return now;
      case Scan::kNoTest:
        now.kind = GoogleTestNow::kNoTestUnconfirmed;
        return now;
      case Scan::kFound:
        g_state.current_offset.store(offset, std::memory_order_release);
        break;
    }
  }
  uintptr_t current[2];  // current_test_suite_, current_test_info_
  if (!ReadProcessMemory(impl + static_cast<uintptr_t>(offset), &current)) return now;
  now.test_suite = current[0];
  now.test_info = current[1];
  if (current[1] == 0) {
    now.kind = GoogleTestNow::kNoTest;
  } else if (CachedName(current[1], now.name)) {
    now.kind = GoogleTestNow::kTest;
  } else if (gtest_layout::ReadTestName(current[1], now.name, sizeof now.name)) {
    now.kind = GoogleTestNow::kTest;
    CacheName(current[1], now.name);
  }
  return now;
}

bool GoogleTestLayoutConfirmed() {
  return g_state.current_offset.load(std::memory_order_acquire) >= 0;
}

void ResetGoogleTestStateForTesting(uintptr_t instance) {
  g_scan.last_size = 0;
  g_name_cache.test_info.store(0, std::memory_order_relaxed);
  g_state.instance.store(instance, std::memory_order_relaxed);
  g_state.impl.store(0, std::memory_order_relaxed);
  g_state.current_offset.store(-1, std::memory_order_relaxed);
  g_state.lookup.store(instance != 0 ? kFound : kNotLooked, std::memory_order_release);
}

}  // namespace threadleak
