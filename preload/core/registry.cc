// Records live in chunks mapped from the kernel (malloc may be what the program is blocked in,
// and must not see the tool's allocations). A record on the free list is a fresh one: constructed
// when its chunk is mapped, reset when it is released; taking one is a pop.
#include "preload/core/registry.h"

#include <sys/mman.h>

#include <new>

#include "preload/core/guard.h"
#include "preload/core/spin_lock.h"

namespace threadleak {
namespace {

constexpr size_t kRecordsPerChunk = 64;
constexpr size_t kBuckets = 4096;  // power of two
constexpr size_t kRecentExits = 256;
constexpr size_t kMaxListedChunks = 4096;  // 262,144 records; more are used but not listed

struct Registry {
  SpinLock lock;
  ThreadRecord* live_head = nullptr;
  ThreadRecord* free_head = nullptr;  // linked through `next`
  ThreadRecord* buckets[kBuckets] = {};
  size_t live = 0;
  size_t allocated = 0;
  int32_t recent_exits[kRecentExits] = {};
  size_t recent_next = 0;
  // Every chunk ever mapped (chunks are never unmapped), for the reachability scan: the wait
  // slots hold the addresses programs wait on, which must never count as the program's own.
  void* chunks[kMaxListedChunks] = {};
  size_t chunk_count = 0;
};

constinit Registry g_registry;

// The registry's lock, held in the tool's scope: a signal handler that interrupts the holder and
// calls a hooked function (pthread_create from a SIGTERM handler, say) passes straight through
// instead of spinning on a lock its own thread holds.
struct RegistryLock {
  ToolScope scope;
  SpinLockGuard lock{g_registry.lock};
};

size_t BucketOf(pthread_t handle) {
  // pthread_t is the address of the thread's descriptor: drop the alignment bits.
  uint64_t h = static_cast<uint64_t>(handle) >> 4;
  h *= 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(h >> 52) & (kBuckets - 1);
}

// Called with the lock held.
bool RefillFreeList() {
  void* memory = mmap(nullptr, sizeof(ThreadRecord) * kRecordsPerChunk, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return false;
  auto* records = static_cast<ThreadRecord*>(memory);
  if (g_registry.chunk_count < kMaxListedChunks) g_registry.chunks[g_registry.chunk_count] = memory;
  ++g_registry.chunk_count;
  for (size_t i = 0; i < kRecordsPerChunk; ++i) {
    new (&records[i]) ThreadRecord;  // not waiting, sequence 0
    records[i].next = g_registry.free_head;
    g_registry.free_head = &records[i];
  }
  g_registry.allocated += kRecordsPerChunk;
  return true;
}

// Called with the lock held.
void UnhashLocked(ThreadRecord* record) {
  if (!record->hashed.load(std::memory_order_relaxed)) return;
  ThreadRecord** link = &g_registry.buckets[BucketOf(record->handle)];
  while (*link != nullptr && *link != record) link = &(*link)->bucket_next;
  if (*link == record) *link = record->bucket_next;
  record->hashed.store(false, std::memory_order_relaxed);
}

// Called with the lock held.
void UnlinkAndFreeLocked(ThreadRecord* record) {
  UnhashLocked(record);
  if (record->prev != nullptr)
    record->prev->next = record->next;
  else
    g_registry.live_head = record->next;
  if (record->next != nullptr) record->next->prev = record->prev;
  if (int32_t tid = record->tid.load(std::memory_order_relaxed); tid > 0) {
    g_registry.recent_exits[g_registry.recent_next++ % kRecentExits] = tid;
  }
  --g_registry.live;
  // The wait sequence goes on across reuse: a report still unwinding the record's thread must
  // see the word change, never the same word again from the record's next thread.
  uint64_t sequence = record->wait.word.load(std::memory_order_relaxed) & ~uint64_t{0xffff'ffff};
  record->~ThreadRecord();
  auto* fresh = new (record) ThreadRecord;
  fresh->wait.word.store((sequence + (uint64_t{1} << 32)) | kNotWaiting, std::memory_order_relaxed);
  fresh->next = g_registry.free_head;
  g_registry.free_head = fresh;
}

}  // namespace

ThreadRecord* AllocateRecord() {
  RegistryLock guard;
  if (g_registry.free_head == nullptr && !RefillFreeList()) return nullptr;
  ThreadRecord* record = g_registry.free_head;
  g_registry.free_head = record->next;
  // Fresh already, its wait sequence where the last thread's left it (UnlinkAndFreeLocked).
  record->next = g_registry.live_head;
  if (record->next != nullptr) record->next->prev = record;
  g_registry.live_head = record;
  ++g_registry.live;
  return record;
}

void PublishHandle(ThreadRecord* record, pthread_t handle) {
  // The creator and the child both publish (whichever comes first): the second sees it done
  // without taking the lock, which is on every create+join. The record cannot be released
  // meanwhile: both callers hold it (lifecycle.h).
  if (record->hashed.load(std::memory_order_acquire)) return;
  RegistryLock guard;
  if (record->hashed.load(std::memory_order_relaxed)) return;
  record->handle = handle;
  size_t bucket = BucketOf(handle);
  record->bucket_next = g_registry.buckets[bucket];
  g_registry.buckets[bucket] = record;
  record->hashed.store(true, std::memory_order_release);
}

ThreadRecord* FindRecord(pthread_t handle) {
  RegistryLock guard;
  for (ThreadRecord* r = g_registry.buckets[BucketOf(handle)]; r != nullptr; r = r->bucket_next) {
    if (r->handle == handle) return r;
  }
  return nullptr;
}

bool MarkLifecycle(ThreadRecord* record, uint32_t bits) {
  uint32_t before = record->lifecycle.fetch_or(bits, std::memory_order_acq_rel);
  auto releasable = [](uint32_t v) {
    return (v & kFinished) && (v & (kDetached | kJoined)) && (v & kCreatorReturned);
  };
  if (releasable(before) || !releasable(before | bits)) return false;
  RegistryLock guard;
  UnlinkAndFreeLocked(record);
  return true;
}

void ReleaseRecord(ThreadRecord* record) {
  RegistryLock guard;
  UnlinkAndFreeLocked(record);
}

void ForEachRecord(void (*visit)(const ThreadRecord& record, void* context), void* context) {
  RegistryLock guard;
  for (ThreadRecord* r = g_registry.live_head; r != nullptr; r = r->next) visit(*r, context);
}

void MarkExistingThreads() {
  RegistryLock guard;
  for (ThreadRecord* r = g_registry.live_head; r != nullptr; r = r->next) {
    r->lifecycle.fetch_or(kExisting, std::memory_order_relaxed);
  }
}

size_t LiveRecordCount() {
  RegistryLock guard;
  return g_registry.live;
}

size_t AllocatedRecordCount() {
  RegistryLock guard;
  return g_registry.allocated;
}

bool RecentlyExited(int32_t tid) {
  RegistryLock guard;
  for (int32_t exited : g_registry.recent_exits) {
    if (exited == tid) return true;
  }
  return false;
}

void RegistryBeforeFork() {
  g_registry.lock.Lock();
}

void RegistryAfterForkInParent() {
  g_registry.lock.Unlock();
}

void RegistryAfterForkInChild(ThreadRecord* survivor, int32_t new_tid) {
  g_registry.lock.ResetAfterFork();
  RegistryLock guard;
  for (ThreadRecord* r = g_registry.live_head; r != nullptr;) {
    ThreadRecord* next = r->next;
    if (r != survivor) UnlinkAndFreeLocked(r);
    r = next;
  }
  for (int32_t& exited : g_registry.recent_exits) exited = 0;
  if (survivor != nullptr) survivor->tid.store(new_tid, std::memory_order_relaxed);
}

bool ListRegistryChunks(tl_range* out, size_t capacity, size_t* count) {
  RegistryLock lock;
  size_t listed =
      g_registry.chunk_count < kMaxListedChunks ? g_registry.chunk_count : kMaxListedChunks;
  *count = 0;
  for (size_t i = 0; i < listed && *count < capacity; ++i) {
    auto start = reinterpret_cast<uintptr_t>(g_registry.chunks[i]);
    out[(*count)++] = {start, start + sizeof(ThreadRecord) * kRecordsPerChunk};
  }
  return *count == g_registry.chunk_count;
}

}  // namespace threadleak
