#include "preload/capture/creation_stack.h"

#include <pthread.h>
#include <sys/auxv.h>
#include <sys/resource.h>

#include <atomic>

#include "preload/capture/unwinder.h"
#include "preload/core/object_touches.h"
#include "preload/core/snapshot.h"

namespace threadleak {
namespace {

constexpr size_t kWalkMax = TL_MAX_FRAMES + 8;  // as many as the tool's own frames may take
constexpr size_t kRemembered = 32;

// One remembered stack. Written under its sequence (odd while a writer fills it), read without
// a lock: a reader that saw the sequence change drops what it read.
struct RememberedStack {
  std::atomic<uint32_t> sequence{0};  // 0: empty
  std::atomic<uint32_t> depth{0};
  // Where frame i's return address lay, relative to the capturing frame (see Capture).
  std::atomic<int32_t> slot_offsets[TL_MAX_FRAMES] = {};
  std::atomic<uintptr_t> pcs[TL_MAX_FRAMES] = {};
};

constinit RememberedStack g_remembered[kRemembered];
constinit std::atomic<uint32_t> g_next_victim{0};
constinit std::atomic<uint32_t> g_last_hit{0};
constinit std::atomic<uint64_t> g_remembered_count{0};
constinit std::atomic<uint64_t> g_walked_count{0};
// The main thread's stack: the kernel keeps its rlimit (the window) free of other mappings
// below its top, where it put the program's file name (AT_EXECFN, above every frame). 0: not
// known yet.
constinit std::atomic<uintptr_t> g_main_stack_window{0};
constinit std::atomic<uintptr_t> g_main_stack_end{0};

// A count for tests: an increment without a locked instruction (a lost one under a race is fine).
void Count(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// struct pthread of glibc 2.36 on x86-64 (the report's reachability scan reads the same fields,
// report/reachability/process_layout.h): header.tcb and header.self name the descriptor itself,
// `tid` the thread, and `stackblock`/`stackblock_size` the block the thread runs on — its
// descriptor at the top. Read from the calling thread's own descriptor, which is always mapped.
constexpr uintptr_t kSelfOffset = 16;
constexpr uintptr_t kTidOffset = 720;
constexpr uintptr_t kStackBlockOffset = 1680;
constexpr uintptr_t kStackBlockSizeOffset = 1688;

uintptr_t MainStackWindow() {
  uintptr_t window = g_main_stack_window.load(std::memory_order_relaxed);
  if (window != 0) return window;
  g_main_stack_end.store(getauxval(AT_EXECFN), std::memory_order_relaxed);
  rlimit limit{};
  window = 8u << 20;
  if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    window = static_cast<uintptr_t>(limit.rlim_cur);
  }
  constexpr uintptr_t kMaxWindow = uintptr_t{256} << 20;
  if (window > kMaxWindow) window = kMaxWindow;
  g_main_stack_window.store(window, std::memory_order_relaxed);
  return window;
}

// The end of the stack memory above `reference` (a frame of the calling thread) that is surely
// mapped, or 0 when that cannot be told cheaply: the thread runs on a stack of its own making (a
// coroutine's, an alternate signal stack), or the descriptor is not laid out as expected.
uintptr_t ReadableStackEnd(uintptr_t reference) {
  // pthread_self() without the call: the thread pointer is the descriptor's address.
  const auto self = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
  if (self == 0) return 0;
  const auto* words = reinterpret_cast<const uintptr_t*>(self);
  if (words[0] != self || words[kSelfOffset / 8] != self) return 0;
  if (*reinterpret_cast<const int32_t*>(self + kTidOffset) != CurrentTid()) return 0;
  const uintptr_t block = *reinterpret_cast<const uintptr_t*>(self + kStackBlockOffset);
  const uintptr_t block_size = *reinterpret_cast<const uintptr_t*>(self + kStackBlockSizeOffset);
  if (block != 0) {
    // A thread glibc started: its stack, static TLS and descriptor are one block.
    if (reference < block || reference >= self || self >= block + block_size) return 0;
    return self;
  }
  // The main thread (glibc records no block for it).
  const uintptr_t window = MainStackWindow();
  const uintptr_t end = g_main_stack_end.load(std::memory_order_relaxed);
  if (reference >= end || end - reference >= window) return 0;
  return end;
}

// Whether the stack above `reference` holds `entry`'s return addresses where it had them; if so
// copies them to `pcs` (room for TL_MAX_FRAMES) and returns how many, else returns 0.
__attribute__((no_sanitize("address"))) size_t Match(const RememberedStack& entry,
                                                     uintptr_t reference, uintptr_t end,
                                                     uintptr_t* pcs) {
  const uint32_t sequence = entry.sequence.load(std::memory_order_acquire);
  if (sequence == 0 || (sequence & 1) != 0) return 0;
  const uint32_t depth = entry.depth.load(std::memory_order_relaxed);
  if (depth == 0 || depth > TL_MAX_FRAMES) return 0;
  // Offsets grow outwards (Walk keeps only such stacks): the last slot is the farthest.
  const int32_t farthest = entry.slot_offsets[depth - 1].load(std::memory_order_relaxed);
  if (farthest < 0 || reference + static_cast<uint32_t>(farthest) + sizeof(uintptr_t) > end) {
    return 0;
  }
  for (uint32_t i = 0; i < depth; ++i) {
    const auto offset =
        static_cast<uint32_t>(entry.slot_offsets[i].load(std::memory_order_relaxed));
    const uintptr_t pc = entry.pcs[i].load(std::memory_order_relaxed);
    if (*reinterpret_cast<const volatile uintptr_t*>(reference + offset) != pc) return 0;
    pcs[i] = pc;
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  return entry.sequence.load(std::memory_order_relaxed) == sequence ? depth : 0;
}

void Remember(const uintptr_t* pcs, const int32_t* slot_offsets, size_t depth) {
  RememberedStack& entry =
      g_remembered[g_next_victim.fetch_add(1, std::memory_order_relaxed) % kRemembered];
  uint32_t sequence = entry.sequence.load(std::memory_order_relaxed);
  // Another thread is filling it: leave it to that one.
  if ((sequence & 1) != 0 ||
      !entry.sequence.compare_exchange_strong(sequence, sequence + 1, std::memory_order_acquire)) {
    return;
  }
  entry.depth.store(static_cast<uint32_t>(depth), std::memory_order_relaxed);
  for (size_t i = 0; i < depth; ++i) {
    entry.slot_offsets[i].store(slot_offsets[i], std::memory_order_relaxed);
    entry.pcs[i].store(pcs[i], std::memory_order_relaxed);
  }
  entry.sequence.store(sequence + 2, std::memory_order_release);
}

// The walk: every frame's unwind information looked up. Remembers the stack when every kept
// return address was found where the walk says it lies (the slot just below the caller's stack
// pointer) inside the readable stack.
__attribute__((noinline, no_sanitize("address"))) size_t Walk(uintptr_t reference, uintptr_t end,
                                                              uintptr_t* out, size_t max) {
  uintptr_t pcs[kWalkMax];
  uintptr_t sps[kWalkMax];
  const size_t walked = CaptureCurrentFrames(pcs, sps, kWalkMax);
  int32_t slot_offsets[TL_MAX_FRAMES];
  size_t kept = 0;
  bool placed = end != 0;
  for (size_t i = 0; i < walked && kept < max && kept < TL_MAX_FRAMES; ++i) {
    if (IsToolAddress(pcs[i])) continue;
    const uintptr_t slot = sps[i] - sizeof(uintptr_t);
    if (placed &&
        (i == 0 || sps[i] == 0 || slot < reference || slot + sizeof(uintptr_t) > end ||
         slot - reference > INT32_MAX ||
         (kept > 0 && slot - reference <= static_cast<uint32_t>(slot_offsets[kept - 1])) ||
         *reinterpret_cast<const volatile uintptr_t*>(slot) != pcs[i])) {
      placed = false;
    }
    if (placed) slot_offsets[kept] = static_cast<int32_t>(slot - reference);
    out[kept++] = pcs[i];
  }
  // A stack cut short by `max` is remembered as cut: a capture that matches its frames is cut
  // at the same place, as its walk would be.
  if (placed && kept > 0) Remember(out, slot_offsets, kept);
  return kept;
}

}  // namespace

size_t CaptureCreationStack(uintptr_t* pcs, size_t max) {
  if (max > TL_MAX_FRAMES) max = TL_MAX_FRAMES;
  if (max == 0) return 0;
  // The frames between here and the program are the tool's, the same on every call from the
  // same hook: a caller's return address lies at the same distance above this frame whenever
  // the chain of calls is the same.
  const auto reference = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const uintptr_t end = ReadableStackEnd(reference);
  if (end != 0) {
    const uint32_t first = g_last_hit.load(std::memory_order_relaxed);
    for (uint32_t n = 0; n < kRemembered; ++n) {
      const uint32_t index = (first + n) % kRemembered;
      const size_t depth = Match(g_remembered[index], reference, end, pcs);
      if (depth == 0 || depth > max) continue;
      if (index != first) g_last_hit.store(index, std::memory_order_relaxed);
      Count(g_remembered_count);
      return depth;
    }
  }
  Count(g_walked_count);
  return Walk(reference, end, pcs, max);
}

CreationStackCounts CreationStackCountsSoFar() {
  return {g_remembered_count.load(std::memory_order_relaxed),
          g_walked_count.load(std::memory_order_relaxed)};
}

void ForgetCreationStacks() {
  for (RememberedStack& entry : g_remembered) {
    uint32_t sequence = entry.sequence.load(std::memory_order_relaxed);
    if ((sequence & 1) != 0 || !entry.sequence.compare_exchange_strong(sequence, sequence + 1)) {
      continue;
    }
    entry.depth.store(0, std::memory_order_relaxed);
    entry.sequence.store(sequence + 2, std::memory_order_release);
  }
}

}  // namespace threadleak
