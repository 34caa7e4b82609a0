// Who blocks whom: the wait-for graph of a snapshot, its cycles (deadlocks), and for each thread
// whether anything alive can still wake it. A pure function of the snapshot: the shim collects
// owners and wakers; nothing here reads process memory. Allocates; not async-signal-safe.
//
// The rules, in the order they apply to a thread:
//   - Edges come only from confirmed blockers: a mutex owner, rwlock writer or joined thread whose
//     two racy reads agree and are non-zero. A blocker that exited, or that is not in the
//     snapshot (exit reports leave out the main thread and the exiting thread), ends the path:
//     the first makes a mutex/rwlock waiter definite, the second counts as a live thread.
//   - A cycle of edges (any length, mutex/rwlock/join in any mix, a self-loop included) is a
//     deadlock. Its threads are `deadlocked` and definite.
//   - A thread whose blocker, directly or through a chain, is deadlocked gets `waits_on_deadlock`.
//   - Certainty is the least fixpoint of "something alive can still wake it": a thread is
//     possible when its blocker is possible (or alive outside the report), when one of the wakers
//     of its condvar/semaphore/futex is, when the wakers overflowed, or when its state says so
//     (running, io, sleep, barrier, an unknown owner). Everything else is definite: no wakers at
//     all, an exited owner, a finished thread, a cycle, or only stuck threads to depend on.
//
// Analyse the whole snapshot, before any thread is filtered out of the report: a thread left out
// of the snapshot counts as alive, so a suppressed thread in a cycle would hide the deadlock.
//
// Usage, in a report writer:
//   WaitGraphAnalysis graph = AnalyzeWaitGraph(snapshot);
//   out += RenderDeadlockText(snapshot, graph);
//   for (size_t i = 0; i < snapshot.thread_count; ++i) {
//     const ThreadAnalysis& t = graph.threads[i];
//     if (!t.waiting_for.empty()) out += " " + t.waiting_for + "\n";
//     out += std::string(" ") + VerdictPhrase(t) + ": " + t.reason + "\n";
//     if (t.exit_would_hang) out += " " + ExitHangPhrase(snapshot.threads[i]) + "\n";
//   }
#ifndef THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_
#define THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/analysis/reachability.h"

namespace threadleak {

enum class Certainty { kPossible, kDefinite };

struct ThreadAnalysis {
  bool deadlocked = false;  // in a cycle of the wait-for graph
  Certainty certainty = Certainty::kPossible;
  std::string reason;  // why, written out for people ("nothing else ever ...")
  // What the certainty rests on (BasisName): a proof by reachability (kUnreachable: definite;
  // kReachable: possible, the reason gives the path), a deadlock, an exited owner or a finished
  // thread (facts), the thread's own state (it runs, sleeps, waits for I/O or with a time
  // limit), or only the history of who touched the object (kHistory: when no scan ran).
  // kShared: what it waits on is shared with other processes (process_shared.h), whose threads
  // threadleak does not see: possible, whatever this process's threads do.
  enum class Basis { kUnreachable, kReachable, kDeadlock, kExited, kState, kHistory, kShared };
  Basis basis = Basis::kHistory;
  std::vector<int32_t> blocked_by;  // tids it waits for (confirmed owner/writer/joined thread)
  int32_t waits_on_deadlock = 0;    // a deadlocked thread it waits for (transitively), or 0
  // It waits on a condition variable or barrier the exit path destroys
  // (TL_OBJECT_DESTROYED_AT_EXIT): their destroy functions wait for the waiters, so exit would
  // hang. Other objects' flags are ignored: destroying them does not block.
  bool exit_would_hang = false;
  // What it waits for, as the text report shows it: `waiting for mutex 0x1f00 held by thread
  // 4243 "worker-2"`, `waiting for rwlock 0x1f00 held by 2 readers`, `waiting to join thread
  // 4243 "worker-2"`. Empty when the thread waits for no particular thread (cond, sleep, ...)
  // or nothing is known.
  std::string waiting_for;
};

struct WaitEdge {
  int32_t from = 0;    // the waiting thread
  int32_t to = 0;      // the thread it waits for
  uint32_t state = 0;  // tl_state of the wait (mutex, rwlock, join)
  uintptr_t object = 0;
};

struct Deadlock {
  std::vector<int32_t> tids;    // the cycle, in order, starting with its first thread in the
                                // snapshot; one tid for a thread that waits for itself
  std::vector<WaitEdge> edges;  // tids[i] waits for tids[i+1], the last for the first
};

struct WaitGraphAnalysis {
  std::vector<ThreadAnalysis> threads;  // parallel to snapshot.threads
  std::vector<Deadlock> deadlocks;      // ordered by their first thread's place in the snapshot
};

// `reach`: the reachability scan of the same snapshot, or null when none ran. A scan that ran
// decides every blocked thread it covers (abandoned: definite; reachable or able to run by
// itself: possible), except where a fact already decides (a deadlock, an owner that exited, a
// finished thread). A scan that failed leaves the history-based reasons, each saying why there
// is no proof, as "possible": history alone proves nothing.
WaitGraphAnalysis AnalyzeWaitGraph(const tl_snapshot& snapshot,
                                   const Reachability* reach = nullptr);

// "unreachable", "reachable", "deadlock", "exited", "state", "history" or "shared": the JSON
// "basis".
const char* BasisName(ThreadAnalysis::Basis basis);

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

// "deadlocked", "definitely leaked" or "possibly leaked": the word in front of the reason in the
// text report.
const char* VerdictPhrase(const ThreadAnalysis& thread);

// "definite" or "possible": the JSON "certainty".
const char* CertaintyName(Certainty certainty);

// The JVM-style summary of the deadlocks, for the text report, right after its first line; ""
// when there are none. One deadlock:
//   Found one deadlock (2 threads):
//     thread 4242 "locker-a" waits for mutex 0x1f00 held by thread 4243 "locker-b"
//     thread 4243 "locker-b" waits for mutex 0x1f40 held by thread 4242 "locker-a"
// More than one: "Found 2 deadlocks:", then each as above with "Deadlock 1 of 2 (2 threads):"
// as its own first line.
std::string RenderDeadlockText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis);

// The exit-hang warning for a thread with exit_would_hang, e.g. `exit would hang: condition
// variable 0x1f00 is destroyed at exit (a static object's destructor) while this thread waits
// on it`.
std::string ExitHangPhrase(const tl_thread& thread);

// "2 deadlocked, 1 definitely leaked, 1 possibly leaked": the counts that are not zero, for the
// SUMMARY line; "" for an empty snapshot.
std::string VerdictCounts(const WaitGraphAnalysis& analysis);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_
