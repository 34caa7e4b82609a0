// What the tool knows about one thread it saw being created (or the main thread).
//
// The wait slot is written only by the thread itself, with plain atomic stores and no lock; a
// report reads it from another thread and accepts a slightly stale view.
#ifndef THREADLEAK_PRELOAD_CORE_THREAD_RECORD_H_
#define THREADLEAK_PRELOAD_CORE_THREAD_RECORD_H_

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/core/snapshot.h"

namespace threadleak {

inline constexpr uint32_t kNotWaiting = TL_STATE_COUNT;
// since_ns of a wait recorded without a clock read (wait_scope.h).
inline constexpr int64_t kSinceUnknown = -1;
// ThreadRecord::test_source when no test ran that GoogleTest's state showed, before any read
// confirmed the layout: TL_TEST_NONE once one has (gtest_state.h), else TL_TEST_UNKNOWN.
inline constexpr uint32_t kTestNoneUnconfirmed = 0x100;

// The layout of tl_wait_slot (snapshot.h), which reports read: written only by the thread
// itself (wait_scope.h).
struct WaitSlot {
  std::atomic<uint64_t> word{kNotWaiting};  // (sequence << 32) | tl_state, or kNotWaiting
  std::atomic<uintptr_t> object{0};
  std::atomic<int64_t> since_ns{0};          // CoarseMonotonicNanos() when the wait began
  std::atomic<uintptr_t> frame{0};           // the hook's frame address
  std::atomic<uintptr_t> callee{0};          // the libc function the hook called
  std::atomic<uintptr_t> return_address{0};  // the hook's, to tell a stale slot

  uint32_t State() const { return static_cast<uint32_t>(word.load(std::memory_order_acquire)); }
};
static_assert(sizeof(WaitSlot) == sizeof(tl_wait_slot));
static_assert(offsetof(WaitSlot, word) == offsetof(tl_wait_slot, word));
static_assert(offsetof(WaitSlot, object) == offsetof(tl_wait_slot, object));
static_assert(offsetof(WaitSlot, since_ns) == offsetof(tl_wait_slot, since_ns));
static_assert(offsetof(WaitSlot, frame) == offsetof(tl_wait_slot, frame));
static_assert(offsetof(WaitSlot, callee) == offsetof(tl_wait_slot, callee));
static_assert(offsetof(WaitSlot, return_address) == offsetof(tl_wait_slot, return_address));

// Lifecycle bits. A record is released once the thread has finished and nobody can ask about it
// any more: it was joined, or it was detached — and once pthread_create has returned to the
// creator, which publishes the handle after the thread may already have run.
enum LifecycleBit : uint32_t {
  kFinished = 1u << 0,
  kDetached = 1u << 1,
  kJoined = 1u << 2,
  kMainThread = 1u << 3,
  kCreatorReturned = 1u << 4,
  kExisting = 1u << 5,  // alive when main started (ignore_existing)
};

struct ThreadRecord {
  // Registry links, guarded by the registry lock.
  ThreadRecord* prev = nullptr;
  ThreadRecord* next = nullptr;
  ThreadRecord* bucket_next = nullptr;
  // Set under the lock; read without it only to skip a second publication (registry.cc).
  std::atomic<bool> hashed{false};

  pthread_t handle = 0;         // valid once `hashed`
  std::atomic<int32_t> tid{0};  // 0 until the thread runs
  std::atomic<uint32_t> lifecycle{0};
  WaitSlot wait;

  // Fixed when the thread is created.
  uint64_t creation_sequence = 0;  // 1, 2, 3, ... in order of creation (API marks)
  int32_t creator_tid = -1;
  char creator_name[TL_NAME_LEN] = {};
  void* (*start_routine)(void*) = nullptr;
  void* start_arg = nullptr;

  // The watchdog's memory: since_ns of the wait it last reported (written by the monitor thread
  // only, through wait_scope.h).
  mutable std::atomic<int64_t> watchdog_reported_since{0};

  // How many times the exit key's destructor ran (lifecycle.cc).
  uint8_t exit_rounds = 0;

  // Its alternate signal stack, as set with sigaltstack (0 and 0: none). The sampler's signal
  // must not land on one with no room left for the kernel's signal frame.
  std::atomic<uintptr_t> altstack_low{0};
  std::atomic<size_t> altstack_size{0};

  // Its name as the thread itself last read it (lifecycle.cc: no system call while no rename was
  // seen), current while `name_generation` is the process's rename generation; made current when
  // it finishes, and kept: /proc no longer has it then. Written by the thread (by its creator
  // before it runs); a report reads it only once the thread has finished.
  char name[TL_NAME_LEN] = {};
  uint64_t name_generation = 0;  // 0: not read yet

  // Its GoogleTest test (gtest_state.h), fixed when it is created: a tl_test_source, or
  // kTestNoneUnconfirmed.
  uint32_t test_source = TL_TEST_UNKNOWN;
  uint32_t creation_depth = 0;

  // Not cleared when a record is reused (registry.cc): zeroing them was 640 of the ~900 bytes a
  // release wrote, on every create+join. Only what test_source and creation_depth say is valid
  // is ever read; a chunk is zero when it is mapped.
  char test_name[TL_TEST_NAME_LEN];   // valid for TL_TEST_RUNNING and TL_TEST_INHERITED
  uintptr_t creation[TL_MAX_FRAMES];  // valid up to creation_depth
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_THREAD_RECORD_H_
