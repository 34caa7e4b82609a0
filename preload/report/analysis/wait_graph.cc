// The wait-for graph: edges from confirmed blockers, cycles, and the certainty fixpoint. The
// sentences it writes into ThreadAnalysis are part of the report's interface (tests grep them);
// change them together with the tests.
#include "preload/report/analysis/wait_graph.h"

#include <algorithm>
#include <deque>

#include "preload/report/analysis/process_shared.h"
#include "preload/report/render/syscall_names.h"
#include "preload/report/render/wait_graph_phrases.h"

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

// "thread 4243 "b", which holds mutex 0x1f00,": the blocker as the subject of a sentence.
std::string HolderSubject(const tl_thread& waiter, const std::string& blocker) {
  switch (waiter.state) {
    case TL_STATE_JOIN:
      return blocker + ", which it joins,";
    case TL_STATE_RWLOCK:
      return blocker + ", which holds " + ObjectPhrase(waiter.state, waiter.object) +
             " for writing,";
    default:
      return blocker + ", which holds " + ObjectPhrase(waiter.state, waiter.object) + ",";
  }
}

std::string HeldBy(const tl_thread& waiter) {
  return waiter.state == TL_STATE_RWLOCK ? " is held for writing by " : " is held by ";
}

// The confirmed blocker as a thread label. An exited blocker's tid may name a new thread now, so
// it goes without a name.
std::string BlockerLabel(const tl_thread& waiter, const ThreadIndex& index) {
  if (waiter.blocker_exited) return "thread " + std::to_string(waiter.blocker_tid);
  return ThreadLabel(index, waiter.blocker_tid);
}

std::string WaitingFor(const tl_thread& thread, const ThreadIndex& index) {
  const std::string object = ObjectPhrase(thread.state, thread.object);
  if (int32_t blocker = ConfirmedBlocker(thread)) {
    std::string who = BlockerLabel(thread, index);
    if (blocker == thread.tid) {
      who += " (itself)";
    } else if (thread.blocker_exited && WaitsOnSharedObject(thread)) {
      who += " (not a thread of this process: another process's, or one that has exited)";
    } else if (thread.blocker_exited) {
      who += ", which has exited";
    } else if (index.Find(blocker) < 0) {
      who += " (not in this report)";
    }
    if (thread.state == TL_STATE_JOIN) return "waiting to join " + who;
    if (thread.state == TL_STATE_RWLOCK)
      return "waiting for " + object + " held for writing by " + who;
    return "waiting for " + object + " held by " + who;
  }
  if (thread.state == TL_STATE_RWLOCK && thread.rwlock_readers > 0) {
    int32_t n = thread.rwlock_readers;
    return "waiting for " + object + " held by " + std::to_string(n) +
           (n == 1 ? " reader" : " readers");
  }
  return "";
}

// What a thread's certainty rests on.
struct Basis {
  bool fixed = true;     // the reason is final; else it depends on `deps`
  bool possible = true;  // when fixed
  std::string reason;    // when fixed
  ThreadAnalysis::Basis kind = ThreadAnalysis::Basis::kHistory;  // what the verdict rests on
  std::vector<int> deps;  // threads (indices) that could wake it: it is possible if one is
};

// Why the waiter of an object shared with other processes stays possible.
std::string SharedReason(const tl_thread& t) {
  const std::string object = ObjectPhrase(t.state, t.object);
  const std::string how = (t.object_flags & TL_OBJECT_IN_SHARED_MEMORY)
                              ? " lies in memory shared with other processes"
                              : " is process-shared (PTHREAD_PROCESS_SHARED)";
  const bool lock = WaitsForThread(t.state);
  std::string held;
  if (lock && ConfirmedBlocker(t) != 0 && t.blocker_exited) {
    held = "; it is held by thread " + std::to_string(t.blocker_tid) +
           ", which is not a thread of this process";
  }
  return object + how + held + ": a thread of another process may still " +
         (lock ? "release it" : "wake it") + " (threadleak sees only this process's threads)";
}

// The basis of a thread that is not deadlocked. `next` is its blocker in the snapshot or kNone.
Basis BasisOf(const tl_snapshot& snapshot, const ThreadIndex& index, int i, int next) {
  const tl_thread& t = snapshot.threads[i];
  const std::string object = ObjectPhrase(t.state, t.object);
  auto fixed = [](bool possible, std::string reason) {
    Basis b;
    b.possible = possible;
    b.reason = std::move(reason);
    return b;
  };
  // An object another process may hold or wake: a blocker in this process still decides (a
  // cycle, a holder that can run), anything else is out of sight.
  if (WaitsOnSharedObject(t) && t.state != TL_STATE_JOIN &&
      !(WaitsForThread(t.state) && next != kNone)) {
    Basis b = fixed(true, SharedReason(t));
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
      const std::string who = BlockerLabel(t, index);
      if (t.state == TL_STATE_JOIN) {
        if (t.blocker_exited)
          return fixed(true, who + ", which it joins, has exited; the join should return");
        return fixed(true,
                     who + ", which it joins, is alive (not in this report) and may still end");
      }
      if (t.blocker_exited) {
        Basis b =
            fixed(false, object + HeldBy(t) + who +
                             ", which has exited without unlocking it (nothing can unlock it)");
        b.kind = ThreadAnalysis::Basis::kExited;
        return b;
      }
      return fixed(true, object + HeldBy(t) + who +
                             " (alive, not in this report), which may still release it");
    }
    if (t.blocker_tid != t.blocker_tid_second_read) {
      const std::string reads = " (" + std::to_string(t.blocker_tid) + ", then " +
                                std::to_string(t.blocker_tid_second_read) + ")";
      if (t.state == TL_STATE_JOIN) {
        return fixed(true,
                     "the thread it joins read differently twice" + reads + "; it may be ending");
      }
      return fixed(true, "the owner of " + object + " changed between two reads" + reads +
                             "; the lock is still changing hands");
    }
    if (t.state == TL_STATE_MUTEX) {
      return fixed(true, "threadleak found no owner of " + object +
                             " (an owner waiting on a condition variable shows none); another "
                             "thread may still release it");
    }
    if (t.state == TL_STATE_RWLOCK) {
      if (t.rwlock_readers > 0) {
        int32_t n = t.rwlock_readers;
        return fixed(true, object + " is held by " + std::to_string(n) +
                               (n == 1 ? " reader" : " readers") +
                               ", which threadleak does not record; one of them may still "
                               "release it");
      }
      return fixed(true, "threadleak found no writer or readers of " + object +
                             "; another thread may still release it");
    }
    return fixed(true,
                 "threadleak does not know the thread it joins (" + object + "); it may still end");
  }
  if (NeedsWaking(t.state)) {
    const std::string verbs = WakerVerbs(t.state);
    if (t.wakers_overflow) {
      return fixed(true, "more threads than threadleak tracks have " + verbs + " " + object +
                             "; one of them may still wake it");
    }
    Basis b;
    b.fixed = false;
    uint32_t count = std::min<uint32_t>(t.waker_count, TL_MAX_WAKERS);
    for (uint32_t k = 0; k < count; ++k) {
      int32_t waker = t.wakers[k];
      if (waker == t.tid || waker == 0) continue;
      int w = index.Find(waker);
      if (w < 0) {
        return fixed(true, "thread " + std::to_string(waker) + " has " + verbs + " " + object +
                               " and is still alive (not in this report)");
      }
      if (std::find(b.deps.begin(), b.deps.end(), w) == b.deps.end()) b.deps.push_back(w);
    }
    if (b.deps.empty()) {
      return fixed(false, "nothing else has ever " + verbs + " " + object +
                              " (no other live thread can wake it)");
    }
    return b;
  }
  auto by_state = [&](bool possible, std::string reason) {
    Basis b = fixed(possible, std::move(reason));
    b.kind = t.state == TL_STATE_FINISHED  ? ThreadAnalysis::Basis::kExited
             : t.state == TL_STATE_BARRIER ? ThreadAnalysis::Basis::kHistory
                                           : ThreadAnalysis::Basis::kState;
    return b;
  };
  switch (t.state) {
    case TL_STATE_BARRIER:
      return by_state(true, "it waits at " + object + "; another thread may still arrive");
    case TL_STATE_SLEEP:
      return by_state(true, "it sleeps and will wake up by itself");
    case TL_STATE_IO:
      return by_state(true, "it waits in " +
                                (t.syscall_number >= 0 ? SyscallName(t.syscall_number) + "()"
                                                       : std::string("a system call")) +
                                " for another thread or process");
    case TL_STATE_RUNNING:
      return by_state(true, "it is running, not blocked in a wait");
    case TL_STATE_FINISHED:
      return by_state(false, "it has finished, but nothing joined or detached it");
    default:
      return by_state(true, "threadleak does not know what it waits for");
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

// "it waits for mutex 0xA held by thread 2 "b", which joins this thread": the cycle read from
// thread cycle[at].
std::string CycleReason(const tl_snapshot& snapshot, const ThreadIndex& index,
                        const std::vector<int>& cycle, size_t at) {
  const tl_thread& self = snapshot.threads[cycle[at]];
  if (cycle.size() == 1) {
    if (self.state == TL_STATE_JOIN) return "it joins itself";
    return "it waits for " + ObjectPhrase(self.state, self.object) + ", which it holds itself" +
           (self.state == TL_STATE_RWLOCK ? " for writing" : "") + " (nothing else can unlock it)";
  }
  // Every thread of the cycle tells it from its own place: a long cycle is cut short, or the
  // reasons together would grow with the square of its length.
  constexpr size_t kMaxClauses = 4;
  const size_t clauses = cycle.size() <= kMaxClauses ? cycle.size() : kMaxClauses - 1;
  std::string out;
  for (size_t k = 0; k < clauses; ++k) {
    const tl_thread& from = snapshot.threads[cycle[(at + k) % cycle.size()]];
    const tl_thread& to = snapshot.threads[cycle[(at + k + 1) % cycle.size()]];
    std::string target = &to == &self ? "this thread" : ThreadLabel(index, to.tid);
    out += (k == 0 ? "it " : ", which ") + WaitClause(from.state, from.object, target);
  }
  if (clauses < cycle.size()) {
    out += ", and so on around a cycle of " + std::to_string(cycle.size()) +
           " threads back to this thread";
  }
  return out;
}

// The proof replaces the history: an abandoned thread is definite, one that something able to
// run can reach is possible, whatever the history said. Facts (a deadlock, an exited owner, a
// finished thread) stand either way.
void ApplyReachability(const tl_snapshot& snapshot, const Reachability* reach,
                       WaitGraphAnalysis* result) {
  if (reach == nullptr) return;
  using B = ThreadAnalysis::Basis;
  for (size_t i = 0; i < snapshot.thread_count; ++i) {
    ThreadAnalysis& a = result->threads[i];
    if (a.basis == B::kDeadlock || a.basis == B::kExited || a.basis == B::kShared) continue;
    if (!reach->ok || i >= reach->threads.size()) {
      // History alone is no proof (a C11 condition variable the shim never sees signalled, a
      // sender that still holds the channel): without the scan's, it says only "possibly".
      if (a.certainty == Certainty::kDefinite && a.basis == B::kHistory) {
        a.certainty = Certainty::kPossible;
        a.reason += " (not proven by reachability: " + reach->failure + ")";
      }
      continue;
    }
    const ThreadReach& r = reach->threads[i];
    switch (r.fate) {
      case ThreadFate::kAbandoned:
        a.certainty = Certainty::kDefinite;
        a.basis = B::kUnreachable;
        a.reason = r.explanation;
        break;
      case ThreadFate::kReachable:
        a.certainty = Certainty::kPossible;
        a.basis = B::kReachable;
        a.reason = r.explanation;
        break;
      case ThreadFate::kNotBlocked:
        if (!r.explanation.empty()) {
          a.certainty = Certainty::kPossible;
          a.basis = B::kState;
          a.reason = r.explanation;
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
      a.reason = CycleReason(snapshot, index, cycle, k);
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
    basis[i] = BasisOf(snapshot, index, i, next[i]);
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
    if (basis[i].fixed) {
      a.reason = std::move(basis[i].reason);
    } else if (WaitsForThread(t.state)) {
      const int b = basis[i].deps[0];
      const ThreadAnalysis& blocker = result.threads[b];
      const std::string subject = HolderSubject(t, ThreadLabel(index, snapshot.threads[b].tid));
      if (possible[b]) {
        a.reason =
            subject + (t.state == TL_STATE_JOIN ? " may still end" : " may still release it");
      } else if (blocker.deadlocked) {
        a.reason = subject + " is itself deadlocked";
        a.basis = ThreadAnalysis::Basis::kDeadlock;  // a fact: its blocker can never run
      } else if (blocker.waits_on_deadlock != 0) {
        a.basis = ThreadAnalysis::Basis::kDeadlock;
        a.reason = subject + " is stuck behind deadlocked " +
                   ThreadLabel(index, blocker.waits_on_deadlock);
      } else {
        a.reason = subject + " is definitely leaked";
      }
    } else {
      const std::string tail =
          std::string(" ") + WakerVerbs(t.state) + " " + ObjectPhrase(t.state, t.object);
      if (possible[i]) {
        auto waker = std::find_if(basis[i].deps.begin(), basis[i].deps.end(),
                                  [&](int w) { return possible[w]; });
        a.reason = ThreadLabel(index, snapshot.threads[*waker].tid) + " has" + tail +
                   " and is still alive";
      } else {
        std::string who;
        for (int w : basis[i].deps) {
          who += (who.empty() ? "" : ", ") + ThreadLabel(index, snapshot.threads[w].tid);
        }
        a.reason = "only threads that can no longer run have" + tail + " (" + who +
                   "); no other live thread can wake it";
      }
    }
  }
  ApplyReachability(snapshot, reach, &result);
  return result;
}

}  // namespace threadleak
