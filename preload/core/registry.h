// The set of thread records, with memory that does not grow with the number of threads ever
// created: released records go back to a free list and are reused.
//
// Safe to call from hooks (no malloc, no lock the program can take); not from a signal handler.
#ifndef THREADLEAK_PRELOAD_CORE_REGISTRY_H_
#define THREADLEAK_PRELOAD_CORE_REGISTRY_H_

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/core/thread_record.h"

namespace threadleak {

// Threads created so far; a record's creation_sequence is its place in that count. A mark
// (threadleak_mark) is a value of it.
inline constinit std::atomic<uint64_t> g_creation_sequence{0};

// Returns a zeroed record linked into the registry, or null when memory is exhausted.
ThreadRecord* AllocateRecord();

// Makes `record` findable by its pthread_t (idempotent: creator and child both call it).
void PublishHandle(ThreadRecord* record, pthread_t handle);

// The live record for a pthread_t, or null.
ThreadRecord* FindRecord(pthread_t handle);

// Sets lifecycle bits; releases the record when the thread is finished and was joined or
// detached, and its creator's pthread_create has returned. Returns true if this call released it
// (the caller must not touch it again).
bool MarkLifecycle(ThreadRecord* record, uint32_t bits);

// Unlinks a record whose thread never ran (pthread_create failed).
void ReleaseRecord(ThreadRecord* record);

// Calls visit(record, context) for every record under the registry lock. `visit` must be quick
// and must not call back into the registry.
void ForEachRecord(void (*visit)(const ThreadRecord& record, void* context), void* context);

// Marks every live record kExisting (ignore_existing: called as main starts).
void MarkExistingThreads();

// Number of records live now, and records allocated from the system so far (for tests: the
// second stays flat while threads come and go).
size_t LiveRecordCount();
size_t AllocatedRecordCount();

// Tids of threads whose records were released recently: they may still show in /proc for a
// moment while the kernel finishes them, and must not be reported as unknown threads.
bool RecentlyExited(int32_t tid);

// The memory the records live in, for the reachability scan to leave alone: up to `capacity`
// ranges in `out`, their number in *count. False if some could not be listed.
bool ListRegistryChunks(tl_range* out, size_t capacity, size_t* count);

// fork(): the prepare handler takes the lock so the child never inherits it held; the child
// keeps only the forking thread's record.
void RegistryBeforeFork();
void RegistryAfterForkInParent();
void RegistryAfterForkInChild(ThreadRecord* survivor, int32_t new_tid);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_REGISTRY_H_
