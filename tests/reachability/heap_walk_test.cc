// The glibc heap walk (preload/report/reachability/malloc_heap.h) against blocks this test
// allocates itself: small and large, aligned, from the main arena, from other threads' arenas, and
// mmapped ones. Every layout fact the walk relies on is checked here on the machine that runs the
// tests.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "preload/report/reachability/malloc_heap.h"
#include "preload/report/reachability/process_layout.h"
#include "preload/report/reachability/target_memory.h"
#include "preload/report/render/scan_text.h"
#include "tests/reachability/skip_if_sanitized.h"

namespace threadleak {
namespace {

struct Allocation {
  void* pointer;
  size_t size;
  // An aligned allocation glibc served from a larger mmapped chunk keeps the larger chunk's
  // header at the mapping's start too: the walk may give that whole chunk, which holds it.
  bool aligned = false;
};

std::vector<AddressRange> AnonymousWritable(const std::vector<Mapping>& mappings) {
  std::vector<AddressRange> out;
  for (const Mapping& m : mappings) {
    if (m.writable && m.readable && m.anonymous() && m.path.empty())
      out.push_back({m.start, m.end});
  }
  return out;
}

const HeapBlock* FindBlock(const MallocHeap& heap, uintptr_t start, bool containing) {
  for (const HeapBlock& b : heap.blocks) {
    if (b.start == start || (containing && b.start <= start && start < b.end)) return &b;
  }
  return nullptr;
}

TEST(HeapWalk, FindsEveryBlockThisProcessAllocated) {
  SKIP_IF_SANITIZED();
  std::vector<Allocation> mine;
  for (size_t size : {1ul, 24ul, 100ul, 1000ul, 5000ul, 100000ul, 300000ul, 2ul << 20}) {
    mine.push_back({malloc(size), size});
  }
  mine.push_back({aligned_alloc(4096, 10000), 10000, true});
  mine.push_back({aligned_alloc(65536, 300000), 300000, true});  // mmapped, prev_size != 0
  // Freed chunks between live ones: the walk must step over them.
  std::vector<void*> freed;
  for (int i = 0; i < 100; ++i) freed.push_back(malloc(64 + i * 16));
  for (size_t i = 0; i < freed.size(); i += 2) free(freed[i]);
  for (size_t i = 1; i < freed.size(); i += 2) mine.push_back({freed[i], 64 + i * 16});
  // Other arenas: threads allocate (and keep) blocks of their own.
  std::vector<std::thread> threads;
  std::vector<std::vector<Allocation>> per_thread(3);
  for (size_t t = 0; t < per_thread.size(); ++t) {
    threads.emplace_back([&, t] {
      for (size_t size : {32ul, 700ul, 70000ul, 500000ul}) {
        per_thread[t].push_back({malloc(size), size});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& list : per_thread) mine.insert(mine.end(), list.begin(), list.end());

  const std::vector<Mapping> mappings = ReadMappings(getpid());
  MallocHeap heap = WalkMallocHeap(TargetMemory(getpid()), mappings, AnonymousWritable(mappings),
                                   size_t{1} << 40);
  ASSERT_TRUE(heap.ok) << ScanFailurePhrase(heap.failure);
  for (const Allocation& a : mine) {
    const auto start = reinterpret_cast<uintptr_t>(a.pointer);
    const HeapBlock* block = FindBlock(heap, start, a.aligned);
    ASSERT_NE(block, nullptr) << "no block at " << a.pointer << " (" << a.size << " bytes)";
    EXPECT_GE(block->end - start, a.size) << a.pointer;
    if (!a.aligned) {
      EXPECT_LE(block->end - block->start, malloc_usable_size(a.pointer) + 8) << a.pointer;
    }
  }
  for (size_t i = 1; i < heap.blocks.size(); ++i) {
    EXPECT_LE(heap.blocks[i - 1].end, heap.blocks[i].start);
  }
  for (const Allocation& a : mine) free(a.pointer);
}

// Freed chunks in this thread's tcache look in use to a walk of the chunks (their neighbour's
// PREV_INUSE bit stays set); the walk takes them out by following the tcache's lists.
TEST(HeapWalk, TcacheChunksAreFree) {
  SKIP_IF_SANITIZED();
  std::vector<void*> kept, freed;
  for (int i = 0; i < 6; ++i) {
    kept.push_back(malloc(200));
    freed.push_back(malloc(200));
  }
  for (void* p : freed) free(p);  // tcache holds up to 7 chunks of a size
  const std::vector<Mapping> mappings = ReadMappings(getpid());
  MallocHeap heap = WalkMallocHeap(TargetMemory(getpid()), mappings, AnonymousWritable(mappings),
                                   size_t{1} << 40);
  ASSERT_TRUE(heap.ok) << ScanFailurePhrase(heap.failure);
  for (void* p : kept) EXPECT_NE(FindBlock(heap, reinterpret_cast<uintptr_t>(p), false), nullptr);
  for (void* p : freed) EXPECT_EQ(FindBlock(heap, reinterpret_cast<uintptr_t>(p), false), nullptr);
  for (void* p : kept) free(p);
}

TEST(HeapWalk, GivesUpPastTheLimit) {
  SKIP_IF_SANITIZED();
  void* volatile big = malloc(8 << 20);  // volatile: the compiler may not drop the pair
  memset(big, 1, 64);
  const std::vector<Mapping> mappings = ReadMappings(getpid());
  MallocHeap heap =
      WalkMallocHeap(TargetMemory(getpid()), mappings, AnonymousWritable(mappings), 1 << 20);
  EXPECT_FALSE(heap.ok);
  EXPECT_EQ(heap.failure.code, ScanFailure::Code::kHeapTooBig) << ScanFailurePhrase(heap.failure);
  EXPECT_EQ(heap.failure.megabytes, 1u);
  free(big);
}

TEST(HeapWalk, NamesAnotherAllocator) {
  std::vector<Mapping> mappings = ReadMappings(getpid());
  Mapping jemalloc;
  jemalloc.start = 0x1000;
  jemalloc.end = 0x2000;
  jemalloc.inode = 1;
  jemalloc.path = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  mappings.insert(mappings.begin(), jemalloc);
  MallocHeap heap = WalkMallocHeap(TargetMemory(getpid()), mappings, {}, size_t{1} << 40);
  EXPECT_FALSE(heap.ok);
  EXPECT_EQ(heap.failure.code, ScanFailure::Code::kForeignAllocator)
      << ScanFailurePhrase(heap.failure);
  EXPECT_EQ(heap.failure.allocator, "libjemalloc.so.2");
}

TEST(HeapWalk, ADamagedHeaderFailsTheWalk) {
  SKIP_IF_SANITIZED();
  // A fake [heap]: three chunks whose middle one claims to run past the end.
  alignas(16) static uint64_t fake[64] = {};
  fake[1] = 0x20 | 1;   // chunk 0: 32 bytes
  fake[5] = 0x400 | 1;  // chunk 1: 1 KiB, past the 512-byte heap
  std::vector<Mapping> mappings = ReadMappings(getpid());
  Mapping heap_mapping;
  heap_mapping.start = reinterpret_cast<uintptr_t>(fake);
  heap_mapping.end = heap_mapping.start + sizeof fake;
  heap_mapping.path = "[heap]";
  for (Mapping& m : mappings) {
    if (m.path == "[heap]") m.path = "[was heap]";
  }
  mappings.push_back(heap_mapping);
  MallocHeap heap = WalkMallocHeap(TargetMemory(getpid()), mappings, {}, size_t{1} << 40);
  EXPECT_FALSE(heap.ok);
  EXPECT_EQ(heap.failure.code, ScanFailure::Code::kBadHeap) << ScanFailurePhrase(heap.failure);
  EXPECT_EQ(heap.failure.problem, ScanFailure::HeapProblem::kDamagedHeader);
  EXPECT_EQ(heap.failure.heap, ScanFailure::Heap::kMain);
}

// The thread descriptor's stack block (process_layout.h: kTcbStackBlockOffset), read from
// outside, against what glibc itself reports for the thread (pthread_getattr_np, which reads the
// same fields): a default stack, one with a larger guard, and one the program gave.
AddressRange GlibcStackBlock(pthread_t thread) {
  pthread_attr_t attributes;
  void* low = nullptr;
  size_t size = 0, guard = 0;
  EXPECT_EQ(pthread_getattr_np(thread, &attributes), 0);
  pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_getguardsize(&attributes, &guard);
  pthread_attr_destroy(&attributes);
  // The block starts with the guard, which glibc reports apart from the stack.
  return {reinterpret_cast<uintptr_t>(low) - guard, reinterpret_cast<uintptr_t>(low) + size};
}

TEST(StackBlock, TheDescriptorsBlockIsTheOneGlibcReports) {
  static char given[256 << 10] __attribute__((aligned(4096)));
  for (int kind = 0; kind < 3; ++kind) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    if (kind == 1) pthread_attr_setguardsize(&attributes, 3 * 4096);
    if (kind == 2) pthread_attr_setstack(&attributes, given, sizeof given);
    struct Seen {
      std::atomic<pid_t> tid{0};
      std::atomic<bool> done{false};  // the thread lives until the test has read it
    } seen;
    pthread_t thread;
    ASSERT_EQ(pthread_create(
                  &thread, &attributes,
                  [](void* arg) -> void* {
                    auto* s = static_cast<Seen*>(arg);
                    s->tid = static_cast<pid_t>(gettid());
                    while (!s->done) sched_yield();
                    return nullptr;
                  },
                  &seen),
              0);
    pthread_attr_destroy(&attributes);
    while (seen.tid == 0) sched_yield();
    const AddressRange expected = GlibcStackBlock(thread);
    const TargetMemory memory(getpid());
    const uintptr_t handle = reinterpret_cast<uintptr_t>(thread);
    const AddressRange block = ReadStackBlock(memory, handle, seen.tid);
    EXPECT_EQ(block.start, expected.start) << "kind " << kind;
    EXPECT_EQ(block.end, expected.end) << "kind " << kind;
    EXPECT_NE(block.end, 0u) << "kind " << kind;
    // Another tid, or an address that is no descriptor: nothing.
    EXPECT_EQ(ReadStackBlock(memory, handle, seen.tid + 1).end, 0u);
    EXPECT_EQ(ReadStackBlock(memory, handle + 64, seen.tid).end, 0u);
    seen.done = true;
    pthread_join(thread, nullptr);
  }
  // This thread's own, for certain alive.
  const TargetMemory memory(getpid());
  const AddressRange block =
      ReadStackBlock(memory, reinterpret_cast<uintptr_t>(pthread_self()), gettid());
  if (getpid() != gettid()) {
    EXPECT_EQ(block.start, GlibcStackBlock(pthread_self()).start);
  } else {
    EXPECT_EQ(block.end, 0u);  // the main thread's descriptor records no block
  }
}

// Device memory is left out of a scan that reads through /proc/PID/mem; shared memory is not.
TEST(DeviceMapping, DevicesAndSysfsButNotSharedMemory) {
  for (const char* device : {"/dev/mem", "/dev/uio0", "/dev/dri/card0", "/dev/nvidia0",
                             "/sys/devices/pci0000:00/0000:00:02.0/resource0", "/dmabuf:"}) {
    EXPECT_TRUE(DeviceMapping(device)) << device;
  }
  for (const char* memory : {"/dev/zero (deleted)", "/dev/shm/queue", "/dev/hugepages/pool",
                             "/usr/lib/libc.so.6", "", "[heap]", "/home/dev/data", "/devices"}) {
    EXPECT_FALSE(DeviceMapping(memory)) << memory;
  }
}

}  // namespace
}  // namespace threadleak
