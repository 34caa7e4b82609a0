#include "preload/capture/blockers.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "preload/capture/process_memory.h"
#include "preload/core/object_touches.h"
#include "preload/core/process_identity.h"
#include "preload/core/registry.h"

namespace threadleak {
namespace {

constexpr size_t kExitObjects = 8192;
// A destructor registered for an aggregate covers its members: a condition variable inside a
// static struct is destroyed with it.
constexpr uintptr_t kAggregateReach = 512;

constinit std::atomic<uintptr_t> g_exit_objects[kExitObjects] = {};
constinit std::atomic<size_t> g_exit_object_count{0};

bool ThreadExists(int32_t tid) {
  return syscall(SYS_tgkill, CurrentPid(), tid, 0) == 0 || errno != ESRCH;
}

// ThreadExists for the touchers of one look at every thread: the waiters of one condition
// variable share their few touchers (10,000 waiters asked about the same four tids 40,000 times,
// a system call each). A tid is asked once per look.
class ExistenceCache {
 public:
  bool Exists(int32_t tid) {
    int32_t& entry = entries_[static_cast<uint32_t>(tid) % kEntries];
    if (entry != tid && entry != -tid) entry = ThreadExists(tid) ? tid : -tid;
    return entry == tid;
  }

 private:
  // Small: a report may run on the program's alternate signal stack (dump_on_fatal).
  static constexpr uint32_t kEntries = 32;
  int32_t entries_[kEntries] = {};  // tid: exists, -tid: does not, 0: empty (tids are > 0)
};

bool DestroyedAtExit(uintptr_t object) {
  size_t count = g_exit_object_count.load(std::memory_order_acquire);
  if (count > kExitObjects) count = kExitObjects;
  for (size_t i = 0; i < count; ++i) {
    uintptr_t start = g_exit_objects[i].load(std::memory_order_relaxed);
    if (start != 0 && object >= start && object < start + kAggregateReach) return true;
  }
  return false;
}

// The owner (mutex), writer (rwlock) or joined thread (join) of a wait; 0 when unknown.
int32_t ReadBlockerTid(const tl_thread& thread, int32_t* readers) {
  *readers = 0;
  switch (thread.state) {
    case TL_STATE_MUTEX: {
      pthread_mutex_t mutex;
      return ReadProcessMemory(thread.object, &mutex) ? mutex.__data.__owner : 0;
    }
    case TL_STATE_RWLOCK: {
      pthread_rwlock_t lock;
      if (!ReadProcessMemory(thread.object, &lock)) return 0;
      if (lock.__data.__cur_writer != 0) return lock.__data.__cur_writer;
      *readers = static_cast<int32_t>(lock.__data.__readers >> 3);  // READER_SHIFT in glibc
      return 0;
    }
    case TL_STATE_JOIN: {
      ThreadRecord* joined = FindRecord(static_cast<pthread_t>(thread.object));
      return joined != nullptr ? joined->tid.load(std::memory_order_acquire) : 0;
    }
    default:
      return 0;
  }
}

bool WokenByOthers(uint32_t state) {
  return state == TL_STATE_COND || state == TL_STATE_FUTEX || state == TL_STATE_SEM;
}

}  // namespace

void NoteDestroyedAtExit(const void* object) {
  if (object == nullptr) return;
  size_t index = g_exit_object_count.fetch_add(1, std::memory_order_acq_rel);
  if (index < kExitObjects) {
    g_exit_objects[index].store(reinterpret_cast<uintptr_t>(object), std::memory_order_release);
  }
}

void ReadBlockers(ThreadList* list, int32_t monitor_tid) {
  ExistenceCache existence;
  for (size_t i = 0; i < list->count; ++i) {
    tl_thread& thread = list->threads[i];
    thread.blocker_tid = ReadBlockerTid(thread, &thread.rwlock_readers);
    if (thread.object != 0 && DestroyedAtExit(thread.object)) {
      thread.object_flags |= TL_OBJECT_DESTROYED_AT_EXIT;
    }
    if (!WokenByOthers(thread.state) || thread.object == 0) continue;
    Touchers touchers = TouchersOf(reinterpret_cast<const void*>(thread.object));
    thread.wakers_overflow = touchers.overflow;
    for (size_t t = 0; t < touchers.count; ++t) {
      int32_t tid = touchers.tids[t];
      if (tid == thread.tid || tid == monitor_tid || !existence.Exists(tid)) continue;
      thread.wakers[thread.waker_count++] = tid;
    }
  }
}

void ConfirmBlockers(ThreadList* list) {
  for (size_t i = 0; i < list->count; ++i) {
    tl_thread& thread = list->threads[i];
    int32_t readers = 0;
    thread.blocker_tid_second_read = ReadBlockerTid(thread, &readers);
    if (thread.blocker_tid > 0 && thread.blocker_tid == thread.blocker_tid_second_read) {
      thread.blocker_exited = !ThreadExists(thread.blocker_tid);
    }
  }
}

}  // namespace threadleak
