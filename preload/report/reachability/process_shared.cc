#include "preload/report/reachability/process_shared.h"

#include <linux/futex.h>
#include <sys/syscall.h>

#include <vector>

#include "preload/report/reachability/process_layout.h"

namespace threadleak {
namespace {

// Where glibc 2.36 (x86-64) keeps the attribute, as pthread_*_init and sem_init store it.
constexpr uintptr_t kMutexKindOffset = 16;      // pthread_mutex_t.__data.__kind
constexpr uint32_t kMutexPsharedBit = 0x80;     // PTHREAD_MUTEX_PSHARED_BIT
constexpr uint32_t kMutexRobustBit = 0x10;      // robust mutexes get the pshared bit anyway
constexpr uintptr_t kCondWrefsOffset = 36;      // pthread_cond_t.__data.__wrefs
constexpr uint32_t kCondSharedBit = 1;          // __wrefs bit 0: process-shared
constexpr uintptr_t kRwlockSharedOffset = 28;   // pthread_rwlock_t.__data.__shared
constexpr uintptr_t kSemPrivateOffset = 8;      // struct new_sem.private
constexpr uintptr_t kBarrierSharedOffset = 12;  // struct pthread_barrier.shared
constexpr int32_t kFutexShared = 0x80;          // glibc's FUTEX_SHARED (LLL_SHARED)

bool Waits(uint32_t state) {
  return state != TL_STATE_RUNNING && state != TL_STATE_FINISHED && state < TL_STATE_COUNT;
}

// Whether the thread sleeps in a futex wait without FUTEX_PRIVATE_FLAG, as glibc waits on a
// process-shared object (and only then: a private one's waits carry the flag). The object's bytes
// alone are not enough: an object on a frame that has returned, or freed, holds anything.
bool InSharedFutexWait(pid_t pid, int32_t tid) {
  const TaskSyscall kernel = ReadTaskSyscall(pid, tid);
  return kernel.known && !kernel.running && kernel.number == SYS_futex &&
         (kernel.args[1] & FUTEX_PRIVATE_FLAG) == 0;
}

}  // namespace

std::optional<bool> HasProcessSharedAttribute(const TargetMemory& memory, uint32_t state,
                                              uintptr_t object) {
  auto read = [&](uintptr_t offset) -> std::optional<uint32_t> {
    uint32_t value = 0;
    if (!memory.Read(object + offset, &value)) return std::nullopt;
    return value;
  };
  std::optional<uint32_t> value;
  switch (state) {
    case TL_STATE_MUTEX:
      // A robust mutex carries the bit whatever its attribute (the kernel wakes its waiters
      // without FUTEX_PRIVATE_FLAG): there the mapping decides.
      if (!(value = read(kMutexKindOffset))) return std::nullopt;
      return (*value & kMutexPsharedBit) != 0 && (*value & kMutexRobustBit) == 0;
    case TL_STATE_COND:
      if (!(value = read(kCondWrefsOffset))) return std::nullopt;
      return (*value & kCondSharedBit) != 0;
    case TL_STATE_RWLOCK:
      if (!(value = read(kRwlockSharedOffset))) return std::nullopt;
      return *value != 0;
    case TL_STATE_SEM:
      if (!(value = read(kSemPrivateOffset))) return std::nullopt;
      return static_cast<int32_t>(*value) == kFutexShared;
    case TL_STATE_BARRIER:
      if (!(value = read(kBarrierSharedOffset))) return std::nullopt;
      return static_cast<int32_t>(*value) == kFutexShared;
    default:
      return std::nullopt;
  }
}

void MarkProcessSharedObjects(tl_thread* threads, size_t count, pid_t pid) {
  const TargetMemory memory(pid);
  std::vector<Mapping> mappings;
  bool mappings_read = false;
  for (size_t i = 0; i < count; ++i) {
    tl_thread& thread = threads[i];
    if (!Waits(thread.state) || thread.object == 0 || thread.state == TL_STATE_JOIN) continue;
    if (!mappings_read) {
      mappings = ReadMappings(pid);
      mappings_read = true;
    }
    const int mapping = FindMapping(mappings, thread.object);
    if (mapping >= 0 && mappings[static_cast<size_t>(mapping)].shared) {
      thread.object_flags |= TL_OBJECT_IN_SHARED_MEMORY;
    }
    if (HasProcessSharedAttribute(memory, thread.state, thread.object).value_or(false) &&
        InSharedFutexWait(pid, thread.tid)) {
      thread.object_flags |= TL_OBJECT_PROCESS_SHARED;
    }
  }
}

}  // namespace threadleak
