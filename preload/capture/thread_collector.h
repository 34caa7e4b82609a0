// Gathers the threads a report speaks of: every record in the registry, plus tasks in
// /proc/self/task the shim never saw being created. Excludes the calling thread (it is making
// the report) and, for leak checks, the main thread.
#ifndef THREADLEAK_PRELOAD_CAPTURE_THREAD_COLLECTOR_H_
#define THREADLEAK_PRELOAD_CAPTURE_THREAD_COLLECTOR_H_

#include <cstddef>
#include <cstdint>

#include "preload/capture/thread_list.h"
#include "preload/core/snapshot.h"

namespace threadleak {

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

// The rest of a report, after collection: classify, read blockers, sample stacks, write.
// Returns what WriteReport returns. Only through RunReport (triggers/run_report.h), which holds
// the report lock.
int ReportCollected(uint32_t trigger, uint32_t kind, ThreadList* list, int fd = -1,
                    int copy_fd = -1, int fatal_signal = 0);

// Classifies the threads CollectThreads left open, from the kernel's view: io, futex, sleep or
// running. Also fills in names of live threads.
void ClassifyAndName(ThreadList* list);

void ReleaseThreadList(ThreadList* list);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_THREAD_COLLECTOR_H_
