// The wait-for graph in Graphviz DOT (format=dot). Internal to the report module.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_DOT_REPORT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_DOT_REPORT_H_

#include <string>

#include "preload/core/snapshot.h"
#include "preload/report/analysis/wait_graph.h"

namespace threadleak {

// The wait-for graph in Graphviz DOT: threads as nodes (leaked / deadlocked highlighted), edges
// labelled with the object.
//
//   digraph threadleak {
//     4242 [label="4242 \"worker\"\nmutex", style="filled,bold", fillcolor="red", ...];
//     4242 -> 4243 [label="mutex 0x1f00", color="red", penwidth=2];
//   }
//
// Nodes are named by tid. Deadlocked threads are red, definitely leaked ones orange and bold,
// possibly leaked ones yellow; the tooltip holds the verdict and reason. Confirmed blockers are
// solid edges labelled with the state and object ("mutex 0x1f00", "rwlock ...", "join ..."),
// red within a cycle. A waker that may still signal a thread's condvar/semaphore/futex gets a
// dashed edge from it. Dashed nodes: blockers and wakers not in the snapshot (named by tid),
// blockers that exited ("exited 4243": their tid may be reused) and an rwlock's readers
// ("readers 0x1f00"). Ends with a newline.
std::string RenderDot(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_DOT_REPORT_H_
