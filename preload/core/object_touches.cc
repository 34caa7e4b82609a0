#include "preload/core/object_touches.h"

#include <unistd.h>

#include <atomic>

#include "preload/core/guard.h"

namespace threadleak {
namespace {

constexpr size_t kSlots = 1 << 14;  // power of two
constexpr size_t kProbes = 16;

struct Slot {
  std::atomic<uintptr_t> object{0};
  std::atomic<int32_t> tids[kTouchersPerObject] = {};
  std::atomic<bool> overflow{false};
};

constinit Slot g_slots[kSlots];
constinit std::atomic<bool> g_table_full{false};  // some object found no slot

inline constinit thread_local int32_t t_tid __attribute__((tls_model("initial-exec"))) = 0;

size_t Home(uintptr_t object) {
  uint64_t h = (static_cast<uint64_t>(object) >> 3) * 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(h >> 50) & (kSlots - 1);
}

// The object's slot, claiming a free one if `claim`; null if none.
Slot* Find(uintptr_t object, bool claim) {
  size_t home = Home(object);
  for (size_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = g_slots[(home + probe) & (kSlots - 1)];
    uintptr_t key = slot.object.load(std::memory_order_acquire);
    if (key == object) return &slot;
    if (key == 0) {
      if (!claim) return nullptr;
      if (slot.object.compare_exchange_strong(key, object, std::memory_order_acq_rel) ||
          key == object) {
        return &slot;
      }
    }
  }
  return nullptr;
}

}  // namespace

int32_t CurrentTid() {
  if (t_tid == 0) t_tid = static_cast<int32_t>(gettid());
  return t_tid;
}

void ResetCurrentTidAfterFork() {
  t_tid = 0;
  t_last_noted[0] = t_last_noted[1] = nullptr;  // noted under the parent's tid
}

void NoteTouchInTable(const void* object) {
  if (object == nullptr) return;
  int32_t tid = CurrentTid();
  Slot* slot = Find(reinterpret_cast<uintptr_t>(object), /*claim=*/true);
  if (slot == nullptr) {
    g_table_full.store(true, std::memory_order_relaxed);
    return;
  }
  // The common case — this thread already noted — is read-only: no cache line is dirtied.
  // Each way out below leaves this thread noted (or the slot overflowed for good).
  t_last_noted[1] = t_last_noted[0];
  t_last_noted[0] = object;
  for (auto& entry : slot->tids) {
    int32_t seen = entry.load(std::memory_order_relaxed);
    if (seen == tid) return;
  }
  for (auto& entry : slot->tids) {
    int32_t expected = 0;
    if (entry.compare_exchange_strong(expected, tid, std::memory_order_relaxed) ||
        expected == tid) {
      return;
    }
  }
  slot->overflow.store(true, std::memory_order_relaxed);
}

Touchers TouchersOf(const void* object) {
  Touchers touchers;
  Slot* slot = Find(reinterpret_cast<uintptr_t>(object), /*claim=*/false);
  if (slot == nullptr) {
    touchers.overflow = g_table_full.load(std::memory_order_relaxed);
    return touchers;
  }
  for (auto& entry : slot->tids) {
    if (int32_t tid = entry.load(std::memory_order_relaxed); tid != 0) {
      touchers.tids[touchers.count++] = tid;
    }
  }
  touchers.overflow = slot->overflow.load(std::memory_order_relaxed);
  return touchers;
}

}  // namespace threadleak
