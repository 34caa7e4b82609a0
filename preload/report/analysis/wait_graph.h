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
// The analysis gives facts, no words: for each thread a Reason code with the objects and threads
// it rests on. The writers word them (render/wait_graph_text.h), one place per phrase.
//
// Usage, in a report writer:
//   WaitGraphAnalysis graph = AnalyzeWaitGraph(snapshot);
//   const WaitGraphText words(snapshot, graph);
//   for (const ThreadAnalysis& t : graph.threads) {
//     if (t.certainty == Certainty::kDefinite) out += words.Reason(t);
//   }
#ifndef THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_
#define THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/reachability/reachability.h"

namespace threadleak {

enum class Certainty { kPossible, kDefinite };

// What a thread waits on: its kind is its wait's (tl_state: a mutex, a condition variable, the
// thread a join waits for...), at `address`.
struct WaitObject {
  uint32_t state = TL_STATE_COUNT;
  uintptr_t address = 0;
};

// Why a thread got its verdict. Each names the fields of ThreadAnalysis it rests on.
enum class Reason : uint8_t {
  // Deadlocked: `deadlock`, and `place`, this thread's place in its cycle.
  kJoinsItself,
  kHoldsItsOwnLock,  // a lock it holds itself (`object`)
  kInCycle,
  // `object` is shared with other processes (kShared), `in_shared_memory` or by its attribute;
  // `other`: the holder of a lock that is no thread of this process (it reads as exited), or 0.
  kSharedObject,
  // A confirmed blocker `other` that is not in the report: exited or alive.
  kJoinedThreadExited,  // the join should return
  kJoinedThreadOutside,
  kOwnerExited,  // nothing can unlock `object` (kExited)
  kOwnerOutside,
  // No confirmed blocker.
  kBlockerReadsDiffer,   // `reads`: the two reads of the owner or joined thread
  kNoOwnerFound,         // a mutex
  kHeldByReaders,        // an rwlock held by `readers` readers
  kNoWriterOrReaders,    // an rwlock
  kJoinedThreadUnknown,  // a join
  // Waits that need waking (condition variable, semaphore, futex) on `object`.
  kWakersOverflow,  // more wakers than the shim tracks
  kWakerOutside,    // `other` touched it and is alive, not in the report
  kNoWakers,        // nothing else ever touched it
  // A futex wait that no hook saw begin (found in the kernel's view: a lock inside libc, a
  // system call made without syscall()); nobody recorded as touching `object` means nothing.
  kWakersUnseen,
  kWakerCanRun,  // `other`, a thread of the report, touched it and can run
  kWakersStuck,  // only `wakers` touched it, and none can run
  // The thread's own state.
  kAtBarrier,  // `object`
  kSleeps,
  kInSystemCall,  // `syscall`, or -1 when unknown
  kRunning,
  kFinished,
  kUnknownState,
  // Behind its blocker `other`, a thread of the report, which holds `object` or is joined.
  kBlockerCanRun,
  kBlockerDeadlocked,
  kBlockerBehindDeadlock,  // the deadlocked thread is `waits_on_deadlock`
  kBlockerLeaked,
  // Decided by the reachability scan: `proof`.
  kAbandoned,
  kReachable,
  kRunsByItself,  // proof.runs_because
};

// Whom a thread waits for: its confirmed blocker (a lock's owner or writer, the joined thread),
// or an rwlock's readers; kNobody when it waits for no particular thread or none is known.
struct WaitTarget {
  enum class Kind : uint8_t { kNobody, kThread, kReaders };
  // Where the blocker is: in the report, the thread itself, no thread of this process (an object
  // shared with others, whose holder reads as exited), exited, or alive outside the report.
  enum class Where : uint8_t { kInReport, kItself, kOtherProcess, kExited, kOutside };
  Kind kind = Kind::kNobody;
  int32_t tid = 0;      // kThread
  bool exited = false;  // kThread: the tid named a thread that had exited (it may name another)
  Where where = Where::kInReport;
  int32_t readers = 0;  // kReaders
};

struct ThreadAnalysis {
  bool deadlocked = false;  // in a cycle of the wait-for graph
  Certainty certainty = Certainty::kPossible;
  // What the certainty rests on (BasisName): a proof by reachability (kUnreachable: definite;
  // kReachable: possible, `proof` gives the path), a deadlock, an exited owner or a finished
  // thread (facts), the thread's own state (it runs, sleeps, waits for I/O or with a time
  // limit), or only the history of who touched the object (kHistory: when no scan ran).
  // kShared: what it waits on is shared with other processes (process_shared.h), whose threads
  // threadleak does not see: possible, whatever this process's threads do.
  enum class Basis { kUnreachable, kReachable, kDeadlock, kExited, kState, kHistory, kShared };
  Basis basis = Basis::kHistory;

  // Why, as facts: the code, then what it names.
  Reason reason = Reason::kUnknownState;
  WaitObject object;               // what it waits on
  int32_t other = 0;               // the other thread the reason names (tid)
  std::vector<int32_t> wakers;     // kWakersStuck, in the order the shim recorded them
  int32_t reads[2] = {0, 0};       // kBlockerReadsDiffer
  int32_t readers = 0;             // kHeldByReaders
  int64_t syscall = -1;            // kInSystemCall
  bool in_shared_memory = false;   // kSharedObject
  size_t deadlock = 0, place = 0;  // deadlocked: WaitGraphAnalysis::deadlocks[deadlock], from
                                   // tids[place]
  ThreadReach proof;               // kAbandoned, kReachable, kRunsByItself
  // History made it definite, but the reachability scan that was to prove it failed
  // (WaitGraphAnalysis::scan_failure): possible.
  bool unproven = false;

  std::vector<int32_t> blocked_by;  // tids it waits for (confirmed owner/writer/joined thread)
  int32_t waits_on_deadlock = 0;    // a deadlocked thread it waits for (transitively), or 0
  // It waits on a condition variable or barrier the exit path destroys
  // (TL_OBJECT_DESTROYED_AT_EXIT): their destroy functions wait for the waiters, so exit would
  // hang. Other objects' flags are ignored: destroying them does not block.
  bool exit_would_hang = false;
  WaitTarget waiting_for;  // the text report's "waiting for ..." line
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
  ScanFailure scan_failure;             // why the reachability scan proved nothing, if it failed
};

// `reach`: the reachability scan of the same snapshot, or null when none ran. A scan that ran
// decides every blocked thread it covers (abandoned: definite; reachable or able to run by
// itself: possible), except where a fact already decides (a deadlock, an owner that exited, a
// finished thread). A scan that failed leaves the history-based reasons as "possible", marked
// `unproven`: history alone proves nothing.
WaitGraphAnalysis AnalyzeWaitGraph(const tl_snapshot& snapshot,
                                   const Reachability* reach = nullptr);

// "unreachable", "reachable", "deadlock", "exited", "state", "history" or "shared": the JSON
// "basis".
const char* BasisName(ThreadAnalysis::Basis basis);

// "definite" or "possible": the JSON "certainty".
const char* CertaintyName(Certainty certainty);

// Finds a snapshot's threads by tid. When two threads share a tid (it should not happen), the
// first one wins.
class ThreadIndex {
 public:
  explicit ThreadIndex(const tl_snapshot& snapshot);
  // The index of the thread with `tid` in snapshot.threads, or -1.
  int Find(int32_t tid) const;
  const tl_thread* Thread(int32_t tid) const;

 private:
  const tl_snapshot& snapshot_;
  std::unordered_map<int32_t, int> by_tid_;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_WAIT_GRAPH_H_
