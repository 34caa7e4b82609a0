// The reachability scan's words (reachability/reachability.h): what it proved of a thread, and why
// a scan proved nothing. The one place of these phrases: the reasons of the text report, JSON
// and DOT take them from here (render/wait_graph_text.h). Internal to the report module.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_SCAN_TEXT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_SCAN_TEXT_H_

#include <string>

#include "preload/report/analysis/wait_graph.h"
#include "preload/report/reachability/reachability.h"
#include "preload/report/reachability/scan_failure.h"

namespace threadleak {

// What the scan found of a thread waiting on `object`, as its reason: "no thread that can still
// run can reach condition variable 0x1f00: the only references are on this thread's own stack",
// "condition variable 0x1f00 is reachable from global `g_queue` in server → heap block
// 0x55d0c8a0+16", "its wait has a time limit, so it wakes up by itself"; "" when the scan has
// nothing to say (a thread that runs or sleeps anyway).
std::string ProofPhrase(const ThreadReach& reach, const WaitObject& object);

// Why a scan proved nothing, one sentence: "the process uses another allocator
// (libjemalloc.so.2), not glibc malloc", "thread 4250 moved during the scan".
std::string ScanFailurePhrase(const ScanFailure& failure);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_SCAN_TEXT_H_
