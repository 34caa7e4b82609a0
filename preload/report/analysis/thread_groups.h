// Grouping, panicparse-style: threads with the same state, the same blocked stack and the same
// creation stack — the same functions and source lines; inside the C and C++ runtimes the same
// functions, since a thread may be caught a few instructions apart — are one group, printed once
// with a count, their tids and names, and the range of how long they have been blocked. 10,000
// workers parked on one queue fit on one screen.
#ifndef THREADLEAK_PRELOAD_REPORT_ANALYSIS_THREAD_GROUPS_H_
#define THREADLEAK_PRELOAD_REPORT_ANALYSIS_THREAD_GROUPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preload/report/symbolized_thread.h"

namespace threadleak {

struct ThreadGroup {
  std::vector<size_t> members;  // indexes into the threads, in report order
};

// Groups keep the order of their first member. `extra_key` (parallel to the threads; may be
// empty) splits groups further, e.g. by verdict.
std::vector<ThreadGroup> GroupThreads(const std::vector<SymbolizedThread>& threads,
                                      const std::vector<int>& extra_key = {});

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_THREAD_GROUPS_H_
