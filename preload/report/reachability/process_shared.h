// Which objects a report's threads wait on are shared with other processes: a mutex, condition
// variable, rwlock, semaphore or barrier made with the PTHREAD_PROCESS_SHARED attribute, or any
// object in a MAP_SHARED mapping (shm_open, memfd, MAP_SHARED|MAP_ANONYMOUS before fork). A
// thread of another process may hold such an object or wake its waiters, so the wait-for graph
// never judges them from this process's threads alone (wait_graph.h).
//
// Runs in the report writer; reads the program from outside (TargetMemory, /proc/PID/maps).
// Allocates; not async-signal-safe.
#ifndef THREADLEAK_PRELOAD_REPORT_PROCESS_SHARED_H_
#define THREADLEAK_PRELOAD_REPORT_PROCESS_SHARED_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "preload/core/snapshot.h"
#include "preload/report/reachability/target_memory.h"

namespace threadleak {

// glibc 2.36 x86-64 keeps the process-shared attribute in the object itself (checked by
// tests/unit against objects made with and without the attribute): the TL_OBJECT_PROCESS_SHARED
// flag for an object of a thread in `state`, read at `object`; nullopt when unreadable or when
// the state's object has no such attribute (a futex word, a join).
std::optional<bool> HasProcessSharedAttribute(const TargetMemory& memory, uint32_t state,
                                              uintptr_t object);

// Sets TL_OBJECT_PROCESS_SHARED and TL_OBJECT_IN_SHARED_MEMORY in the object_flags of each
// waiting thread of `threads`, reading process `pid`. Reads /proc/PID/maps only if a thread
// waits on an object. The attribute counts only when the kernel shows the thread in a futex wait
// without FUTEX_PRIVATE_FLAG too — what glibc does for a process-shared object and never for a
// private one — so the bytes of an object that is gone (a returned frame's) cannot pass for it.
void MarkProcessSharedObjects(tl_thread* threads, size_t count, pid_t pid);

// Whether the object `thread` waits on is shared with other processes (either flag).
inline bool WaitsOnSharedObject(const tl_thread& thread) {
  return (thread.object_flags & (TL_OBJECT_PROCESS_SHARED | TL_OBJECT_IN_SHARED_MEMORY)) != 0;
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_PROCESS_SHARED_H_
