// Gathers the threads a report speaks of: every record in the registry, plus tasks in
// /proc/self/task the shim never saw being created. Excludes the calling thread (it is making
// the report) and, for leak checks, the main thread.
#ifndef THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_
#define THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_

#include <cstddef>
#include <cstdint>

#include "preload/snapshot.h"

namespace threadleak {

struct ThreadList {
  tl_thread* threads = nullptr;
  size_t count = 0;
  size_t mapped_bytes = 0;
  size_t unstarted = 0;  // threads created that have not started yet: not in `threads`
};

// Which threads a report speaks of.
struct CollectFilter {
  bool include_main_thread = false;  // dumps show it; leak checks never report it
  bool since_mark = false;           // only threads created after `mark` (API checks)
  uint64_t mark = 0;
  bool exclude_existing = false;  // leave out threads that existed when main started
  bool include_self = false;      // the calling thread too (a dump before death names it)
};

// Fills `list` with state, wait object, blocked time and creation details. Threads outside a
// hooked wait are left as TL_STATE_RUNNING with syscall_number -2 ("not classified yet").
// Returns false if memory could not be mapped.
bool CollectThreads(const CollectFilter& filter, ThreadList* list);

// CollectThreads, retried with backoff (like goleak's retries) while threads remain and the
// grace period lasts: a thread that was just woken gets the chance to finish. Returns with the
// survivors in `list` (possibly none).
bool CollectWithGrace(const CollectFilter& filter, int64_t grace_ns, ThreadList* list);

// The rest of a report, after collection: classify, read blockers, sample stacks, write.
// Returns what WriteReport returns. Call with g_report_lock held.
int ReportCollected(uint32_t trigger, uint32_t kind, ThreadList* list, int fd = -1,
                    int copy_fd = -1, int fatal_signal = 0);

// Classifies the threads CollectThreads left open, from the kernel's view: io, futex, sleep or
// running. Also fills in names of live threads.
void ClassifyAndName(ThreadList* list);

void ReleaseThreadList(ThreadList* list);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_THREAD_COLLECTOR_H_
