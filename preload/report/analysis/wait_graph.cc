// The wait-for graph: edges from confirmed blockers, cycles, and the certainty fixpoint. It
// records why, as Reason codes and the threads and objects they name; render/wait_graph_text.cc
// words them.
#include "preload/report/analysis/wait_graph.h"

#include <algorithm>
#include <deque>

#include "preload/report/reachability/process_shared.h"

namespace threadleak {
namespace {

constexpr int kNone = -1;

bool WaitsForThread(uint32_t state) {
  return state == TL_STATE_MUTEX || state == TL_STATE_RWLOCK || state == TL_STATE_JOIN;
}

bool NeedsWaking(uint32_t state) {
  return state == TL_STATE_COND || state == TL_STATE_SEM || state == TL_STATE_FUTEX;
}

// Whether destroying the object a thread waits on waits for that thread: pthread_cond_destroy
// and pthread_barrier_destroy do; destroying a mutex, rwlock or semaphore does not block (and a
// std::mutex has no destructor at all).
bool HangsInDestroy(uint32_t state) {
  return state == TL_STATE_COND || state == TL_STATE_BARRIER;
}

// The thread it waits for when both racy reads agree, else 0.
int32_t ConfirmedBlocker(const tl_thread& thread) {
  if (!WaitsForThread(thread.state)) return 0;
  if (thread.blocker_tid == 0 || thread.blocker_tid != thread.blocker_tid_second_read) return 0;
  return thread.blocker_tid;
}

// Whom it waits for, for the "waiting for" line.
WaitTarget WaitingFor(const tl_thread& thread, const ThreadIndex& index) {
  WaitTarget target;
  if (int32_t blocker = ConfirmedBlocker(thread)) {
    target.kind = WaitTarget::Kind::kThread;
    target.tid = blocker;
    target.exited = thread.blocker_exited != 0;
    using Where = WaitTarget::Where;
    target.where = blocker == thread.tid                                  ? Where::kItself
                   : thread.blocker_exited && WaitsOnSharedObject(thread) ? Where::kOtherProcess
                   : thread.blocker_exited                                ? Where::kExited
                   : index.Find(blocker) < 0                              ? Where::kOutside
                                                                          : Where::kInReport;
  } else if (thread.state == TL_STATE_RWLOCK && thread.rwlock_readers > 0) {
    target.kind = WaitTarget::Kind::kReaders;
    target.readers = thread.rwlock_readers;
  }
  return target;
}

// What a thread's certainty rests on.
struct Basis {
  bool fixed = true;     // the reason is final; else it depends on `deps`
  bool possible = true;  // when fixed
  ThreadAnalysis::Basis kind = ThreadAnalysis::Basis::kHistory;  // what the verdict rests on
  std::vector<int> deps;  // threads (indices) that could wake it: it is possible if one is
};

// The basis of a thread that is not deadlocked, its reason written into `a`. `next` is its
// blocker in the snapshot or kNone.
Basis BasisOf(const tl_snapshot& snapshot, const ThreadIndex& index, int i, int next,
              ThreadAnalysis* a) {
  const tl_thread& t = snapshot.threads[i];
  auto fixed = [a](bool possible, Reason reason) {
    a->reason = reason;
    Basis b;
    b.possible = possible;
    return b;
  };
  // An object another process may hold or wake: a blocker in this process still decides (a
  // cycle, a holder that can run), anything else is out of sight.
  if (WaitsOnSharedObject(t) && t.state != TL_STATE_JOIN &&
      !(WaitsForThread(t.state) && next != kNone)) {
    Basis b = fixed(true, Reason::kSharedObject);
    a->in_shared_memory = (t.object_flags & TL_OBJECT_IN_SHARED_MEMORY) != 0;
    if (WaitsForThread(t.state) && ConfirmedBlocker(t) != 0 && t.blocker_exited) {
      a->other = t.blocker_tid;
    }
    b.kind = ThreadAnalysis::Basis::kShared;
    return b;
  }
  if (WaitsForThread(t.state)) {
    if (next != kNone) {
      Basis b;
      b.fixed = false;
      b.deps = {next};
      return b;
    }
    if (ConfirmedBlocker(t) != 0) {
      a->other = t.blocker_tid;
      if (t.state == TL_STATE_JOIN) {
        return fixed(true,
                     t.blocker_exited ? Reason::kJoinedThreadExited : Reason::kJoinedThreadOutside);
      }
      if (t.blocker_exited) {
        Basis b = fixed(false, Reason::kOwnerExited);
        b.kind = ThreadAnalysis::Basis::kExited;
        return b;
      }
      return fixed(true, Reason::kOwnerOutside);
    }
    if (t.blocker_tid != t.blocker_tid_second_read) {
      a->reads[0] = t.blocker_tid;
      a->reads[1] = t.blocker_tid_second_read;
      return fixed(true, Reason::kBlockerReadsDiffer);
    }
    if (t.state == TL_STATE_MUTEX) return fixed(true, Reason::kNoOwnerFound);
    if (t.state == TL_STATE_RWLOCK) {
      if (t.rwlock_readers > 0) {
        a->readers = t.rwlock_readers;
        return fixed(true, Reason::kHeldByReaders);
      }
      return fixed(true, Reason::kNoWriterOrReaders);
    }
    return fixed(true, Reason::kJoinedThreadUnknown);
  }
  if (NeedsWaking(t.state)) {
    if (t.wakers_overflow) return fixed(true, Reason::kWakersOverflow);
    Basis b;
    b.fixed = false;
    uint32_t count = std::min<uint32_t>(t.waker_count, TL_MAX_WAKERS);
    for (uint32_t k = 0; k < count; ++k) {
      int32_t waker = t.wakers[k];
      if (waker == t.tid || waker == 0) continue;
      int w = index.Find(waker);
      if (w < 0) {
        a->other = waker;
        return fixed(true, Reason::kWakerOutside);
      }
      if (std::find(b.deps.begin(), b.deps.end(), w) == b.deps.end()) b.deps.push_back(w);
    }
    if (b.deps.empty()) {
      // The touches are recorded by the hooks of the calls that wake: a wait the hooks did not
      // see begin is woken by calls they do not see either (the inner word of a libc lock).
      if (t.state == TL_STATE_FUTEX && t.unwind.kind == TL_UNWIND_SYSCALL) {
        return fixed(true, Reason::kWakersUnseen);
      }
      return fixed(false, Reason::kNoWakers);
    }
    return b;
  }
  auto by_state = [&](bool possible, Reason reason) {
    Basis b = fixed(possible, reason);
    b.kind = t.state == TL_STATE_FINISHED  ? ThreadAnalysis::Basis::kExited
             : t.state == TL_STATE_BARRIER ? ThreadAnalysis::Basis::kHistory
                                           : ThreadAnalysis::Basis::kState;
    return b;
  };
  switch (t.state) {
    case TL_STATE_BARRIER:
      return by_state(true, Reason::kAtBarrier);
    case TL_STATE_SLEEP:
      return by_state(true, Reason::kSleeps);
    case TL_STATE_IO:
      a->syscall = t.syscall_number >= 0 ? t.syscall_number : -1;
      return by_state(true, Reason::kInSystemCall);
    case TL_STATE_RUNNING:
      return by_state(true, Reason::kRunning);
    case TL_STATE_FINISHED:
      return by_state(false, Reason::kFinished);
    default:
      return by_state(true, Reason::kUnknownState);
  }
}

// The cycles of the functional graph `next` (each thread waits for at most one other), each
// rotated to start at its first thread in the snapshot, ordered by that thread.
std::vector<std::vector<int>> FindCycles(const std::vector<int>& next) {
  const int n = static_cast<int>(next.size());
  std::vector<int> color(n, 0);  // 0: not seen, 1: on the current path, 2: done
  std::vector<std::vector<int>> cycles;
  for (int start = 0; start < n; ++start) {
    if (color[start] != 0) continue;
    std::vector<int> path;
    int v = start;
    while (v != kNone && color[v] == 0) {
      color[v] = 1;
      path.push_back(v);
      v = next[v];
    }
    if (v != kNone && color[v] == 1) {
      std::vector<int> cycle(std::find(path.begin(), path.end(), v), path.end());
      std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
      cycles.push_back(std::move(cycle));
    }
    for (int p : path) color[p] = 2;
  }
  std::sort(cycles.begin(), cycles.end());
  return cycles;
}

// The proof replaces the history: an abandoned thread is definite, one that something able to
// run can reach is possible, whatever the history said. Facts (a deadlock, an exited owner, a
// finished thread) stand either way.
void ApplyReachability(const tl_snapshot& snapshot, const Reachability* reach,
                       WaitGraphAnalysis* result) {
  using B = ThreadAnalysis::Basis;
  if (reach == nullptr) {
    // A live process's dump or watchdog report without a scan: who has touched the object so
    // far is not who can still wake it (a service's queue that no job has reached yet, whose
    // feeder is alive), so history says "possibly" there, as when a scan fails. An exit report
    // without one (leak_scan_max_mb=0, or nothing to prove) keeps history's own certainty.
    if (snapshot.kind != TL_REPORT_DUMP && snapshot.kind != TL_REPORT_WATCHDOG) return;
    for (ThreadAnalysis& a : result->threads) {
      if (a.certainty == Certainty::kDefinite && a.basis == B::kHistory) {
        a.certainty = Certainty::kPossible;
        a.unproven = true;
        result->scan_failure.code = ScanFailure::Code::kNotAsked;
      }
    }
    return;
  }
  if (!reach->ok) result->scan_failure = reach->failure;
  for (size_t i = 0; i < snapshot.thread_count; ++i) {
    ThreadAnalysis& a = result->threads[i];
    if (a.basis == B::kDeadlock || a.basis == B::kExited || a.basis == B::kShared) continue;
    if (!reach->ok || i >= reach->threads.size()) {
      // History alone is no proof (a C11 condition variable the shim never sees signalled, a
      // sender that still holds the channel): without the scan's, it says only "possibly".
      if (a.certainty == Certainty::kDefinite && a.basis == B::kHistory) {
        a.certainty = Certainty::kPossible;
        a.unproven = true;
      }
      continue;
    }
    const ThreadReach& r = reach->threads[i];
    switch (r.fate) {
      case ThreadFate::kAbandoned:
        a.certainty = Certainty::kDefinite;
        a.basis = B::kUnreachable;
        a.reason = Reason::kAbandoned;
        a.proof = r;
        break;
      case ThreadFate::kReachable:
        a.certainty = Certainty::kPossible;
        a.basis = B::kReachable;
        a.reason = Reason::kReachable;
        a.proof = r;
        break;
      case ThreadFate::kNotBlocked:
        if (r.runs_because != RunsBecause::kNothingToSay) {
          a.certainty = Certainty::kPossible;
          a.basis = B::kState;
          a.reason = Reason::kRunsByItself;
          a.proof = r;
        }
        break;
    }
  }
}

}  // namespace

const char* BasisName(ThreadAnalysis::Basis basis) {
  switch (basis) {
    case ThreadAnalysis::Basis::kUnreachable:
      return "unreachable";
    case ThreadAnalysis::Basis::kReachable:
      return "reachable";
    case ThreadAnalysis::Basis::kDeadlock:
      return "deadlock";
    case ThreadAnalysis::Basis::kExited:
      return "exited";
    case ThreadAnalysis::Basis::kState:
      return "state";
    case ThreadAnalysis::Basis::kHistory:
      return "history";
    case ThreadAnalysis::Basis::kShared:
      return "shared";
  }
  return "history";
}

const char* CertaintyName(Certainty certainty) {
  return certainty == Certainty::kDefinite ? "definite" : "possible";
}

ThreadIndex::ThreadIndex(const tl_snapshot& snapshot) : snapshot_(snapshot) {
  for (uint32_t i = 0; i < snapshot.thread_count; ++i) {
    by_tid_.emplace(snapshot.threads[i].tid, static_cast<int>(i));
  }
}

int ThreadIndex::Find(int32_t tid) const {
  auto it = by_tid_.find(tid);
  return it == by_tid_.end() ? -1 : it->second;
}

const tl_thread* ThreadIndex::Thread(int32_t tid) const {
  int i = Find(tid);
  return i < 0 ? nullptr : &snapshot_.threads[i];
}

WaitGraphAnalysis AnalyzeWaitGraph(const tl_snapshot& snapshot, const Reachability* reach) {
  const int n = static_cast<int>(snapshot.thread_count);
  const ThreadIndex index(snapshot);
  WaitGraphAnalysis result;
  result.threads.resize(n);

  // Edges: confirmed blockers that are threads of this snapshot.
  std::vector<int> next(n, kNone);
  for (int i = 0; i < n; ++i) {
    const tl_thread& t = snapshot.threads[i];
    ThreadAnalysis& a = result.threads[i];
    a.object = {t.state, t.object};
    a.exit_would_hang =
        (t.object_flags & TL_OBJECT_DESTROYED_AT_EXIT) != 0 && HangsInDestroy(t.state);
    a.waiting_for = WaitingFor(t, index);
    int32_t blocker = ConfirmedBlocker(t);
    if (blocker == 0) continue;
    a.blocked_by.push_back(blocker);
    if (blocker == t.tid) {
      next[i] = i;
    } else if (!t.blocker_exited) {
      next[i] = index.Find(blocker);
    }
  }

  // Deadlocks.
  std::vector<bool> in_cycle(n, false);
  for (const std::vector<int>& cycle : FindCycles(next)) {
    Deadlock deadlock;
    for (size_t k = 0; k < cycle.size(); ++k) {
      const tl_thread& from = snapshot.threads[cycle[k]];
      const tl_thread& to = snapshot.threads[cycle[(k + 1) % cycle.size()]];
      deadlock.tids.push_back(from.tid);
      deadlock.edges.push_back({from.tid, to.tid, from.state, from.object});
      in_cycle[cycle[k]] = true;
      ThreadAnalysis& a = result.threads[cycle[k]];
      a.deadlocked = true;
      a.certainty = Certainty::kDefinite;
      a.basis = ThreadAnalysis::Basis::kDeadlock;
      a.reason = cycle.size() > 1              ? Reason::kInCycle
                 : from.state == TL_STATE_JOIN ? Reason::kJoinsItself
                                               : Reason::kHoldsItsOwnLock;
      a.deadlock = result.deadlocks.size();
      a.place = k;
    }
    result.deadlocks.push_back(std::move(deadlock));
  }

  // Threads behind a deadlock: the cycle thread at the end of each path, found once per thread
  // (a long chain of waiters must not cost its length squared).
  constexpr int kUnknown = -2;
  std::vector<int> reaches(n, kUnknown);  // the cycle thread a thread's path ends in, or kNone
  for (int i = 0; i < n; ++i) {
    if (in_cycle[i]) reaches[i] = i;
  }
  for (int i = 0; i < n; ++i) {
    std::vector<int> path;
    int v = i;
    while (v != kNone && reaches[v] == kUnknown) {
      path.push_back(v);
      v = next[v];
    }
    const int end = v == kNone ? kNone : reaches[v];
    for (int p : path) reaches[p] = end;
    if (!in_cycle[i] && reaches[i] != kNone) {
      result.threads[i].waits_on_deadlock = snapshot.threads[reaches[i]].tid;
    }
  }

  // Certainty: the least fixpoint of "possible", spreading from fixed-possible threads to the
  // threads that depend on them.
  std::vector<Basis> basis(n);
  std::vector<bool> possible(n, false);
  std::vector<std::vector<int>> dependents(n);
  std::deque<int> work;
  for (int i = 0; i < n; ++i) {
    if (in_cycle[i]) continue;
    basis[i] = BasisOf(snapshot, index, i, next[i], &result.threads[i]);
    if (basis[i].fixed) {
      possible[i] = basis[i].possible;
      if (possible[i]) work.push_back(i);
    } else {
      for (int d : basis[i].deps) dependents[d].push_back(i);
    }
  }
  while (!work.empty()) {
    int v = work.front();
    work.pop_front();
    for (int d : dependents[v]) {
      if (!possible[d]) {
        possible[d] = true;
        work.push_back(d);
      }
    }
  }

  // Reasons.
  for (int i = 0; i < n; ++i) {
    if (in_cycle[i]) continue;
    const tl_thread& t = snapshot.threads[i];
    ThreadAnalysis& a = result.threads[i];
    a.certainty = possible[i] ? Certainty::kPossible : Certainty::kDefinite;
    a.basis = basis[i].fixed ? basis[i].kind : ThreadAnalysis::Basis::kHistory;
    if (basis[i].fixed) continue;  // BasisOf gave the reason
    if (WaitsForThread(t.state)) {
      const int b = basis[i].deps[0];
      const ThreadAnalysis& blocker = result.threads[b];
      a.other = snapshot.threads[b].tid;
      if (possible[b]) {
        a.reason = Reason::kBlockerCanRun;
      } else if (blocker.deadlocked) {
        a.reason = Reason::kBlockerDeadlocked;
        a.basis = ThreadAnalysis::Basis::kDeadlock;  // a fact: its blocker can never run
      } else if (blocker.waits_on_deadlock != 0) {
        a.reason = Reason::kBlockerBehindDeadlock;
        a.basis = ThreadAnalysis::Basis::kDeadlock;
      } else {
        a.reason = Reason::kBlockerLeaked;
      }
    } else if (possible[i]) {
      auto waker = std::find_if(basis[i].deps.begin(), basis[i].deps.end(),
                                [&](int w) { return possible[w]; });
      a.reason = Reason::kWakerCanRun;
      a.other = snapshot.threads[*waker].tid;
    } else {
      a.reason = Reason::kWakersStuck;
      for (int w : basis[i].deps) a.wakers.push_back(snapshot.threads[w].tid);
    }
  }
  ApplyReachability(snapshot, reach, &result);
  return result;
}

}  // namespace threadleak
