// Who blocks whom: the wait-for graph of a snapshot, its cycles (deadlocks), and for each thread
// whether anything alive can still wake it. A pure function of the snapshot: the shim collects
// owners and wakers; nothing here reads process memory.
#ifndef THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_H_
#define THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "preload/snapshot.h"

namespace threadleak {

enum class Certainty { kPossible, kDefinite };

struct ThreadAnalysis {
  bool deadlocked = false;           // in a cycle of the wait-for graph
  Certainty certainty = Certainty::kPossible;
  std::string reason;                // why, written out for people ("nothing else ever ...")
  std::vector<int32_t> blocked_by;   // tids it waits for (confirmed owner/writer/joined thread)
  int32_t waits_on_deadlock = 0;     // a deadlocked thread it waits for (transitively), or 0
  bool exit_would_hang = false;      // it waits on an object the exit path destroys
};

struct WaitEdge {
  int32_t from = 0;   // the waiting thread
  int32_t to = 0;     // the thread it waits for
  uint32_t state = 0; // tl_state of the wait (mutex, rwlock, join)
  uintptr_t object = 0;
};

struct Deadlock {
  std::vector<int32_t> tids;    // the cycle, in order
  std::vector<WaitEdge> edges;  // tids[i] waits for tids[i+1], the last for the first
};

struct WaitGraphAnalysis {
  std::vector<ThreadAnalysis> threads;  // parallel to snapshot.threads
  std::vector<Deadlock> deadlocks;
};

WaitGraphAnalysis AnalyzeWaitGraph(const tl_snapshot& snapshot);

// The wait-for graph in Graphviz DOT: threads as nodes (leaked / deadlocked highlighted), edges
// labelled with the object.
std::string RenderDot(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_H_
