// Gathers the threads a report speaks of: every record in the registry, plus tasks in
// /proc/self/task the shim never saw being created. Excludes the calling thread (it is making
// the report) and, for leak checks, the main thread.
#ifndef THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_
#define THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_

#include <cstddef>

#include "preload/snapshot.h"

namespace threadleak {

struct ThreadList {
  tl_thread* threads = nullptr;
  size_t count = 0;
  size_t mapped_bytes = 0;
};

// Fills `list` with state, wait object, blocked time and creation details. Threads outside a
// hooked wait are left as TL_STATE_RUNNING with syscall_number -2 ("not classified yet").
// Returns false if memory could not be mapped.
bool CollectThreads(bool include_main_thread, ThreadList* list);

// Classifies the threads CollectThreads left open, from the kernel's view: io, futex, sleep or
// running. Also fills in names of live threads.
void ClassifyAndName(ThreadList* list);

void ReleaseThreadList(ThreadList* list);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_
