// The wait-graph's words (wait_graph_text.h): each Reason code of the analysis as a sentence,
// with the threads and objects it names.
#include "preload/report/render/wait_graph_text.h"

#include <string>

#include "preload/report/render/phrases.h"
#include "preload/report/render/scan_text.h"
#include "preload/report/render/syscall_names.h"

namespace threadleak {
namespace {

// A blocker as a thread label. An exited blocker's tid may name a new thread now, so it goes
// without a name.
std::string BlockerLabel(const ThreadIndex& index, int32_t tid, bool exited) {
  if (exited) return "thread " + std::to_string(tid);
  return ThreadLabel(index, tid);
}

// "thread 4243 "b", which holds mutex 0x1f00,": the blocker as the subject of a sentence.
std::string HolderSubject(const WaitObject& object, const std::string& blocker) {
  switch (object.state) {
    case TL_STATE_JOIN:
      return blocker + ", which it joins,";
    case TL_STATE_RWLOCK:
      return blocker + ", which holds " + ObjectPhrase(object) + " for writing,";
    default:
      return blocker + ", which holds " + ObjectPhrase(object) + ",";
  }
}

std::string HeldBy(const WaitObject& object) {
  return object.state == TL_STATE_RWLOCK ? " is held for writing by " : " is held by ";
}

std::string Readers(int32_t n) {
  return std::to_string(n) + (n == 1 ? " reader" : " readers");
}

// "it waits for mutex 0xA held by thread 2 "b", which joins this thread": the cycle read from
// the thread at `place`. A long cycle is cut short: every thread of the cycle tells it from its
// own place, and the reasons together would grow with the square of its length.
std::string CycleReason(const ThreadIndex& index, const Deadlock& deadlock, size_t place) {
  constexpr size_t kMaxClauses = 4;
  const size_t size = deadlock.edges.size();
  const size_t clauses = size <= kMaxClauses ? size : kMaxClauses - 1;
  std::string out;
  for (size_t k = 0; k < clauses; ++k) {
    const WaitEdge& edge = deadlock.edges[(place + k) % size];
    const std::string target =
        (place + k + 1) % size == place ? "this thread" : ThreadLabel(index, edge.to);
    out += (k == 0 ? "it " : ", which ") + WaitClause(edge.state, edge.object, target);
  }
  if (clauses < size) {
    out += ", and so on around a cycle of " + std::to_string(size) + " threads back to this thread";
  }
  return out;
}

// Why the waiter of an object shared with other processes stays possible.
std::string SharedReason(const ThreadAnalysis& t) {
  const bool lock = t.object.state == TL_STATE_MUTEX || t.object.state == TL_STATE_RWLOCK;
  std::string out =
      ObjectPhrase(t.object) + (t.in_shared_memory ? " lies in memory shared with other processes"
                                                   : " is process-shared (PTHREAD_PROCESS_SHARED)");
  if (t.other != 0) {
    out += "; it is held by thread " + std::to_string(t.other) +
           ", which is not a thread of this process";
  }
  return out + ": a thread of another process may still " + (lock ? "release it" : "wake it") +
         " (threadleak sees only this process's threads)";
}

// The reason as history and the thread's state give it, before a failed scan's note.
std::string HistoryReason(const ThreadIndex& index, const WaitGraphAnalysis& analysis,
                          const ThreadAnalysis& t) {
  const std::string object = ObjectPhrase(t.object);
  switch (t.reason) {
    case Reason::kJoinsItself:
      return "it joins itself";
    case Reason::kHoldsItsOwnLock:
      return "it waits for " + object + ", which it holds itself" +
             (t.object.state == TL_STATE_RWLOCK ? " for writing" : "") +
             " (nothing else can unlock it)";
    case Reason::kInCycle:
      return CycleReason(index, analysis.deadlocks[t.deadlock], t.place);
    case Reason::kSharedObject:
      return SharedReason(t);
    case Reason::kJoinedThreadExited:
      return BlockerLabel(index, t.other, true) +
             ", which it joins, has exited; the join should "
             "return";
    case Reason::kJoinedThreadOutside:
      return BlockerLabel(index, t.other, false) +
             ", which it joins, is alive (not in this report) and may still end";
    case Reason::kOwnerExited:
      return object + HeldBy(t.object) + BlockerLabel(index, t.other, true) +
             ", which has exited without unlocking it (nothing can unlock it)";
    case Reason::kOwnerOutside:
      return object + HeldBy(t.object) + BlockerLabel(index, t.other, false) +
             " (alive, not in this report), which may still release it";
    case Reason::kBlockerReadsDiffer: {
      const std::string reads =
          " (" + std::to_string(t.reads[0]) + ", then " + std::to_string(t.reads[1]) + ")";
      if (t.object.state == TL_STATE_JOIN) {
        return "the thread it joins read differently twice" + reads + "; it may be ending";
      }
      return "the owner of " + object + " changed between two reads" + reads +
             "; the lock is still changing hands";
    }
    case Reason::kNoOwnerFound:
      return "threadleak found no owner of " + object +
             " (an owner waiting on a condition variable shows none); another thread may still "
             "release it";
    case Reason::kHeldByReaders:
      return object + " is held by " + Readers(t.readers) +
             ", which threadleak does not record; one of them may still release it";
    case Reason::kNoWriterOrReaders:
      return "threadleak found no writer or readers of " + object +
             "; another thread may still release it";
    case Reason::kJoinedThreadUnknown:
      return "threadleak does not know the thread it joins (" + object + "); it may still end";
    case Reason::kWakersOverflow:
      return std::string("more threads than threadleak tracks have ") + WakerVerbs(t.object.state) +
             " " + object + "; one of them may still wake it";
    case Reason::kWakerOutside:
      return "thread " + std::to_string(t.other) + " has " + WakerVerbs(t.object.state) + " " +
             object + " and is still alive (not in this report)";
    case Reason::kNoWakers:
      return std::string("nothing else has ever ") + WakerVerbs(t.object.state) + " " + object +
             " (no other live thread can wake it)";
    case Reason::kWakersUnseen:
      return "threadleak did not see this wait on " + object +
             " begin (a futex wait inside a library, or a system call made without syscall()), "
             "so it does not know what may wake it";
    case Reason::kWakerCanRun:
      return ThreadLabel(index, t.other) + " has " + WakerVerbs(t.object.state) + " " + object +
             " and is still alive";
    case Reason::kWakersStuck: {
      std::string who;
      for (int32_t waker : t.wakers) {
        who += (who.empty() ? "" : ", ") + ThreadLabel(index, waker);
      }
      return std::string("only threads that can no longer run have ") + WakerVerbs(t.object.state) +
             " " + object + " (" + who + "); no other live thread can wake it";
    }
    case Reason::kAtBarrier:
      return "it waits at " + object + "; another thread may still arrive";
    case Reason::kSleeps:
      return "it sleeps and will wake up by itself";
    case Reason::kInSystemCall:
      return "it waits in " +
             (t.syscall >= 0 ? SyscallName(t.syscall) + "()" : std::string("a system call")) +
             " for another thread or process";
    case Reason::kRunning:
      return "it is running, not blocked in a wait";
    case Reason::kFinished:
      return "it has finished, but nothing joined or detached it";
    case Reason::kUnknownState:
      return "threadleak does not know what it waits for";
    case Reason::kBlockerCanRun:
      return HolderSubject(t.object, ThreadLabel(index, t.other)) +
             (t.object.state == TL_STATE_JOIN ? " may still end" : " may still release it");
    case Reason::kBlockerDeadlocked:
      return HolderSubject(t.object, ThreadLabel(index, t.other)) + " is itself deadlocked";
    case Reason::kBlockerBehindDeadlock:
      return HolderSubject(t.object, ThreadLabel(index, t.other)) + " is stuck behind deadlocked " +
             ThreadLabel(index, t.waits_on_deadlock);
    case Reason::kBlockerLeaked:
      // Without the proof its blocker's verdict rests on history too, and says "possibly".
      return HolderSubject(t.object, ThreadLabel(index, t.other)) +
             (t.unproven ? " is leaked too, by history alone" : " is definitely leaked");
    case Reason::kAbandoned:
    case Reason::kReachable:
    case Reason::kRunsByItself:
      return ProofPhrase(t.proof, t.object);
  }
  return "";
}

}  // namespace

WaitGraphText::WaitGraphText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis)
    : analysis_(analysis), index_(snapshot) {}

std::string WaitGraphText::Reason(const ThreadAnalysis& thread) const {
  std::string out = HistoryReason(index_, analysis_, thread);
  if (thread.unproven) {
    out += " (not proven by reachability: " + ScanFailurePhrase(analysis_.scan_failure) + ")";
  }
  return out;
}

std::string WaitGraphText::WaitingFor(const ThreadAnalysis& thread) const {
  const WaitTarget& target = thread.waiting_for;
  const std::string object = ObjectPhrase(thread.object);
  if (target.kind == WaitTarget::Kind::kReaders) {
    return "waiting for " + object + " held by " + Readers(target.readers);
  }
  if (target.kind != WaitTarget::Kind::kThread) return "";
  std::string who = BlockerLabel(index_, target.tid, target.exited);
  switch (target.where) {
    case WaitTarget::Where::kItself:
      who += " (itself)";
      break;
    case WaitTarget::Where::kOtherProcess:
      who += " (not a thread of this process: another process's, or one that has exited)";
      break;
    case WaitTarget::Where::kExited:
      who += ", which has exited";
      break;
    case WaitTarget::Where::kOutside:
      who += " (not in this report)";
      break;
    case WaitTarget::Where::kInReport:
      break;
  }
  if (thread.object.state == TL_STATE_JOIN) return "waiting to join " + who;
  if (thread.object.state == TL_STATE_RWLOCK) {
    return "waiting for " + object + " held for writing by " + who;
  }
  return "waiting for " + object + " held by " + who;
}

const char* VerdictPhrase(const ThreadAnalysis& thread) {
  if (thread.deadlocked) return "deadlocked";
  return thread.certainty == Certainty::kDefinite ? "definitely leaked" : "possibly leaked";
}

std::string RenderDeadlockText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis) {
  const size_t count = analysis.deadlocks.size();
  if (count == 0) return "";
  const ThreadIndex index(snapshot);
  std::string out;
  if (count > 1) out += "Found " + std::to_string(count) + " deadlocks:\n";
  for (size_t d = 0; d < count; ++d) {
    const Deadlock& deadlock = analysis.deadlocks[d];
    const size_t size = deadlock.tids.size();
    const std::string threads = std::to_string(size) + (size == 1 ? " thread" : " threads");
    if (count == 1) {
      out += "Found one deadlock (" + threads + "):\n";
    } else {
      out += "Deadlock " + std::to_string(d + 1) + " of " + std::to_string(count) + " (" + threads +
             "):\n";
    }
    for (const WaitEdge& edge : deadlock.edges) {
      out += "  " + ThreadLabel(index, edge.from) + " " +
             WaitClause(edge.state, edge.object, ThreadLabel(index, edge.to)) + "\n";
    }
  }
  return out;
}

std::string ExitHangPhrase(const ThreadAnalysis& thread) {
  return "exit would hang: " + ObjectPhrase(thread.object) +
         " is destroyed at exit (a static object's destructor) while this thread waits on it";
}

std::string VerdictCounts(const std::vector<const ThreadAnalysis*>& threads) {
  size_t deadlocked = 0, definite = 0, possible = 0;
  for (const ThreadAnalysis* t : threads) {
    if (t->deadlocked) {
      ++deadlocked;
    } else if (t->certainty == Certainty::kDefinite) {
      ++definite;
    } else {
      ++possible;
    }
  }
  std::string out;
  auto add = [&](size_t n, const char* what) {
    if (n == 0) return;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(deadlocked, "deadlocked");
  add(definite, "definitely leaked");
  add(possible, "possibly leaked");
  return out;
}

std::string VerdictCounts(const WaitGraphAnalysis& analysis) {
  std::vector<const ThreadAnalysis*> threads;
  for (const ThreadAnalysis& t : analysis.threads) threads.push_back(&t);
  return VerdictCounts(threads);
}

}  // namespace threadleak
