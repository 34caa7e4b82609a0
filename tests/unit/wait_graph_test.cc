// The wait-for graph, fed snapshots built by hand: edges from confirmed blockers only, cycles of
// every kind, the certainty rules, and the facts each verdict rests on — its Reason code, the
// objects and threads it names. The words for them are wait_graph_text_test.cc's.
#include "preload/report/analysis/wait_graph.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/wait_graph_snapshots.h"

namespace threadleak {
namespace {

using namespace handmade;  // NOLINT: the snapshot builders

WaitGraphAnalysis Analyze(const Snapshot& s) {
  WaitGraphAnalysis analysis = AnalyzeWaitGraph(s.snapshot);
  EXPECT_EQ(analysis.threads.size(), s.threads.size());
  return analysis;
}

bool SameEdge(const WaitEdge& e, int32_t from, int32_t to, uint32_t state, uintptr_t object) {
  return e.from == from && e.to == to && e.state == state && e.object == object;
}

bool SameObject(const WaitObject& o, uint32_t state, uintptr_t address) {
  return o.state == state && o.address == address;
}

// Whom the "waiting for" line names.
bool WaitsForThread(const ThreadAnalysis& t, int32_t tid, WaitTarget::Where where,
                    bool exited = false) {
  return t.waiting_for.kind == WaitTarget::Kind::kThread && t.waiting_for.tid == tid &&
         t.waiting_for.where == where && t.waiting_for.exited == exited;
}

TEST(WaitGraphTest, EmptySnapshot) {
  Snapshot s({});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_TRUE(a.threads.empty());
  EXPECT_FALSE(a.scan_failure.failed());
}

TEST(WaitGraphTest, AbBaMutexDeadlock) {
  Snapshot s({WaitsFor(10, "locker-a", TL_STATE_MUTEX, 0xb0, 11),
              WaitsFor(11, "locker-b", TL_STATE_MUTEX, 0xa0, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11}));
  ASSERT_EQ(a.deadlocks[0].edges.size(), 2u);
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 11, TL_STATE_MUTEX, 0xb0));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[1], 11, 10, TL_STATE_MUTEX, 0xa0));
  for (size_t i = 0; i < a.threads.size(); ++i) {
    const ThreadAnalysis& t = a.threads[i];
    EXPECT_TRUE(t.deadlocked);
    EXPECT_EQ(t.certainty, Certainty::kDefinite);
    EXPECT_EQ(t.basis, ThreadAnalysis::Basis::kDeadlock);
    EXPECT_EQ(t.waits_on_deadlock, 0);
    EXPECT_EQ(t.reason, Reason::kInCycle);
    EXPECT_EQ(t.deadlock, 0u);
    EXPECT_EQ(t.place, i);  // each tells the cycle from its own place
  }
  EXPECT_TRUE(SameObject(a.threads[0].object, TL_STATE_MUTEX, 0xb0));
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{11}));
  EXPECT_EQ(a.threads[1].blocked_by, (Tids{10}));
  EXPECT_TRUE(WaitsForThread(a.threads[0], 11, WaitTarget::Where::kInReport));
}

TEST(WaitGraphTest, RacyReadsThatDisagreeMakeNoEdge) {
  tl_thread a = WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 11);
  a.blocker_tid_second_read = 12;  // the lock changed hands between the reads
  tl_thread b = WaitsFor(11, "b", TL_STATE_MUTEX, 0xa0, 10);
  Snapshot s({a, b, Thread(12, "c", TL_STATE_RUNNING)});
  WaitGraphAnalysis r = Analyze(s);
  EXPECT_TRUE(r.deadlocks.empty());
  EXPECT_FALSE(r.threads[0].deadlocked);
  EXPECT_TRUE(r.threads[0].blocked_by.empty());
  EXPECT_EQ(r.threads[0].waiting_for.kind, WaitTarget::Kind::kNobody);
  EXPECT_EQ(r.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(r.threads[0].reason, Reason::kBlockerReadsDiffer);
  EXPECT_EQ(r.threads[0].reads[0], 11);
  EXPECT_EQ(r.threads[0].reads[1], 12);
  // b waits for a, which may still get its lock.
  EXPECT_EQ(r.threads[1].blocked_by, (Tids{10}));
  EXPECT_EQ(r.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(r.threads[1].reason, Reason::kBlockerCanRun);
  EXPECT_EQ(r.threads[1].other, 10);
  EXPECT_TRUE(SameObject(r.threads[1].object, TL_STATE_MUTEX, 0xa0));
}

TEST(WaitGraphTest, ZeroOwnerIsNoEdge) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 0)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kNoOwnerFound);
  EXPECT_TRUE(SameObject(a.threads[0].object, TL_STATE_MUTEX, 0xb0));
}

TEST(WaitGraphTest, BlockerOutsideTheSnapshotIsAlive) {
  // 1 is the main thread, left out of an exit report; it may still unlock.
  Snapshot s({WaitsFor(10, "worker", TL_STATE_MUTEX, 0xb0, 1),
              WaitsFor(11, "joiner", TL_STATE_JOIN, 0x7f00, 1)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{1}));
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_TRUE(WaitsForThread(a.threads[0], 1, WaitTarget::Where::kOutside));
  EXPECT_EQ(a.threads[0].reason, Reason::kOwnerOutside);
  EXPECT_EQ(a.threads[0].other, 1);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
  EXPECT_TRUE(WaitsForThread(a.threads[1], 1, WaitTarget::Where::kOutside));
  EXPECT_EQ(a.threads[1].reason, Reason::kJoinedThreadOutside);
  EXPECT_EQ(a.threads[1].other, 1);
}

TEST(WaitGraphTest, ThreeThreadCycleStartsAtItsFirstThreadInTheSnapshot) {
  // Listed out of cycle order, with a thread in front that leads into the cycle.
  Snapshot s(
      {WaitsFor(5, "tail", TL_STATE_MUTEX, 0xf0, 30), WaitsFor(20, "b", TL_STATE_MUTEX, 0xc0, 30),
       WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 20), WaitsFor(30, "c", TL_STATE_MUTEX, 0xa0, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{20, 30, 10}));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 20, 30, TL_STATE_MUTEX, 0xc0));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[1], 30, 10, TL_STATE_MUTEX, 0xa0));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[2], 10, 20, TL_STATE_MUTEX, 0xb0));
  EXPECT_FALSE(a.threads[0].deadlocked);
  EXPECT_EQ(a.threads[0].waits_on_deadlock, 30);
  EXPECT_EQ(a.threads[0].reason, Reason::kBlockerDeadlocked);
  EXPECT_EQ(a.threads[0].other, 30);
  EXPECT_EQ(a.threads[2].reason, Reason::kInCycle);
  EXPECT_EQ(a.threads[2].place, 2u);  // thread 10 is third in the cycle
  EXPECT_EQ(a.threads[3].place, 1u);
}

TEST(WaitGraphTest, LongCycleAndLongChainCostLittle) {
  // Dining philosophers: each holds its left fork and waits for the right one.
  constexpr int kThreads = 1000;
  std::vector<tl_thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(WaitsFor(100 + i, "philosopher", TL_STATE_MUTEX,
                               0x1000 + 0x40 * ((i + 1) % kThreads), 100 + (i + 1) % kThreads));
  }
  // And a long line of threads queued behind the first.
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(
        WaitsFor(5000 + i, "queue", TL_STATE_MUTEX, 0x9000 + i, i == 0 ? 100 : 4999 + i));
  }
  Snapshot s(threads);
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids.size(), static_cast<size_t>(kThreads));
  EXPECT_EQ(a.threads[0].reason, Reason::kInCycle);
  EXPECT_EQ(a.threads[kThreads - 1].place, static_cast<size_t>(kThreads - 1));
  const ThreadAnalysis& last = a.threads[2 * kThreads - 1];
  EXPECT_EQ(last.waits_on_deadlock, 100);
  EXPECT_EQ(last.certainty, Certainty::kDefinite);
  EXPECT_EQ(last.basis, ThreadAnalysis::Basis::kDeadlock);
  EXPECT_EQ(last.reason, Reason::kBlockerBehindDeadlock);
  EXPECT_EQ(last.other, 5998);
  EXPECT_TRUE(SameObject(last.object, TL_STATE_MUTEX, 0x93e7));
}

TEST(WaitGraphTest, CycleThroughAJoin) {
  // The parent holds a mutex and joins its child; the child waits for that mutex.
  Snapshot s({WaitsFor(10, "parent", TL_STATE_JOIN, 0x7f00, 11),
              WaitsFor(11, "child", TL_STATE_MUTEX, 0xa0, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11}));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 11, TL_STATE_JOIN, 0x7f00));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[1], 11, 10, TL_STATE_MUTEX, 0xa0));
  EXPECT_TRUE(WaitsForThread(a.threads[0], 11, WaitTarget::Where::kInReport));
  EXPECT_TRUE(SameObject(a.threads[0].object, TL_STATE_JOIN, 0x7f00));
  EXPECT_EQ(a.threads[0].reason, Reason::kInCycle);
  EXPECT_EQ(a.threads[1].reason, Reason::kInCycle);
}

TEST(WaitGraphTest, MixedCycleOfRwlockMutexAndJoin) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_RWLOCK, 0xa0, 11),
              WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 12),
              WaitsFor(12, "c", TL_STATE_JOIN, 0x7f00, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11, 12}));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 11, TL_STATE_RWLOCK, 0xa0));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[2], 12, 10, TL_STATE_JOIN, 0x7f00));
  EXPECT_TRUE(WaitsForThread(a.threads[0], 11, WaitTarget::Where::kInReport));
  EXPECT_EQ(a.threads[0].reason, Reason::kInCycle);
}

TEST(WaitGraphTest, SelfDeadlock) {
  Snapshot s({WaitsFor(10, "relocker", TL_STATE_MUTEX, 0xa0, 10),
              WaitsFor(11, "self-joiner", TL_STATE_JOIN, 0x7f00, 11)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 2u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10}));
  ASSERT_EQ(a.deadlocks[0].edges.size(), 1u);
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 10, TL_STATE_MUTEX, 0xa0));
  EXPECT_TRUE(a.threads[0].deadlocked);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{10}));
  EXPECT_TRUE(WaitsForThread(a.threads[0], 10, WaitTarget::Where::kItself));
  EXPECT_EQ(a.threads[0].reason, Reason::kHoldsItsOwnLock);
  EXPECT_TRUE(SameObject(a.threads[0].object, TL_STATE_MUTEX, 0xa0));
  EXPECT_EQ(a.threads[1].reason, Reason::kJoinsItself);
  EXPECT_EQ(a.threads[1].deadlock, 1u);
}

TEST(WaitGraphTest, TwoDeadlocks) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_MUTEX, 0xa0, 11),
              WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 10),
              WaitsFor(20, "c", TL_STATE_MUTEX, 0xc0, 20)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 2u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11}));
  EXPECT_EQ(a.deadlocks[1].tids, (Tids{20}));
  EXPECT_EQ(a.threads[2].deadlock, 1u);
  EXPECT_EQ(a.threads[2].place, 0u);
}

TEST(WaitGraphTest, WaitingOnADeadlockIsDefiniteAndSaysSo) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 11),
              WaitsFor(11, "b", TL_STATE_MUTEX, 0xa0, 10),
              WaitsFor(12, "bystander", TL_STATE_MUTEX, 0xa0, 10),
              WaitsFor(13, "joiner", TL_STATE_JOIN, 0x7f00, 12)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_FALSE(a.threads[2].deadlocked);
  EXPECT_EQ(a.threads[2].waits_on_deadlock, 10);
  EXPECT_EQ(a.threads[2].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[2].basis, ThreadAnalysis::Basis::kDeadlock);
  EXPECT_EQ(a.threads[2].reason, Reason::kBlockerDeadlocked);
  EXPECT_EQ(a.threads[2].other, 10);
  EXPECT_EQ(a.threads[3].waits_on_deadlock, 10);
  EXPECT_EQ(a.threads[3].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[3].reason, Reason::kBlockerBehindDeadlock);
  EXPECT_EQ(a.threads[3].other, 12);
}

TEST(WaitGraphTest, JoiningADefinitelyLeakedThreadIsDefinite) {
  Snapshot s({WaitsFor(10, "supervisor", TL_STATE_JOIN, 0x7f00, 11),
              WaitsForWake(11, "hung", TL_STATE_COND, 0xc0, {})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].waits_on_deadlock, 0);
  EXPECT_EQ(a.threads[0].reason, Reason::kBlockerLeaked);
  EXPECT_EQ(a.threads[0].other, 11);
}

TEST(WaitGraphTest, JoiningAPossiblyLeakedThreadIsPossible) {
  Snapshot s({WaitsFor(10, "supervisor", TL_STATE_JOIN, 0x7f00, 11),
              Thread(11, "sleeper", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kBlockerCanRun);
  EXPECT_EQ(a.threads[0].other, 11);
}

TEST(WaitGraphTest, JoiningAThreadThatExitedIsPossible) {
  tl_thread joiner = WaitsFor(10, "joiner", TL_STATE_JOIN, 0x7f00, 11);
  joiner.blocker_exited = 1;
  Snapshot s({joiner});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kJoinedThreadExited);
  EXPECT_EQ(a.threads[0].other, 11);
  EXPECT_TRUE(WaitsForThread(a.threads[0], 11, WaitTarget::Where::kExited, true));
}

TEST(WaitGraphTest, MutexOwnerExitedIsDefinite) {
  tl_thread waiter = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 11);
  waiter.blocker_exited = 1;
  // A new thread reusing tid 11 must not be taken for the owner.
  Snapshot s({waiter, Thread(11, "reused", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{11}));
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kExited);
  EXPECT_TRUE(WaitsForThread(a.threads[0], 11, WaitTarget::Where::kExited, true));
  EXPECT_EQ(a.threads[0].reason, Reason::kOwnerExited);
  EXPECT_EQ(a.threads[0].other, 11);
}

TEST(WaitGraphTest, ASharedMutexHeldOutsideThisProcessIsPossible) {
  tl_thread waiter = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 4242);
  waiter.blocker_exited = 1;  // not a thread of this process: another process's
  waiter.object_flags = TL_OBJECT_IN_SHARED_MEMORY;
  tl_thread joiner = WaitsFor(12, "joiner", TL_STATE_JOIN, 0x7f00, 10);
  Snapshot s({waiter, joiner});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kShared);
  EXPECT_STREQ(BasisName(a.threads[0].basis), "shared");
  EXPECT_TRUE(WaitsForThread(a.threads[0], 4242, WaitTarget::Where::kOtherProcess, true));
  EXPECT_EQ(a.threads[0].reason, Reason::kSharedObject);
  EXPECT_TRUE(a.threads[0].in_shared_memory);
  EXPECT_EQ(a.threads[0].other, 4242);
  // Who waits for it follows it.
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[1].reason, Reason::kBlockerCanRun);
}

TEST(WaitGraphTest, ASharedMutexHeldByAThreadOfThisProcessFollowsThatThread) {
  tl_thread a_thread = WaitsFor(10, "a", TL_STATE_MUTEX, 0xa0, 11);
  tl_thread b_thread = WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 10);
  a_thread.object_flags = TL_OBJECT_PROCESS_SHARED;
  b_thread.object_flags = TL_OBJECT_PROCESS_SHARED;
  Snapshot s({a_thread, b_thread});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);  // a cycle in this process stays a fact
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
}

TEST(WaitGraphTest, NoWakerInThisProcessIsNoProofForASharedObject) {
  tl_thread waiter = WaitsForWake(10, "waiter", TL_STATE_SEM, 0xc0, {});
  waiter.object_flags = TL_OBJECT_PROCESS_SHARED;
  Snapshot s({waiter});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kSharedObject);
  EXPECT_FALSE(a.threads[0].in_shared_memory);  // by its attribute
  EXPECT_EQ(a.threads[0].other, 0);
  // A reachability proof does not override it either.
  Reachability reach;
  reach.ok = true;
  reach.threads.resize(1);
  reach.threads[0].fate = ThreadFate::kAbandoned;
  WaitGraphAnalysis proven = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(proven.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(proven.threads[0].basis, ThreadAnalysis::Basis::kShared);
  EXPECT_EQ(proven.threads[0].reason, Reason::kSharedObject);
}

TEST(WaitGraphTest, RwlockWriterExitedIsDefinite) {
  tl_thread waiter = WaitsFor(10, "reader", TL_STATE_RWLOCK, 0xa0, 11);
  waiter.blocker_exited = 1;
  Snapshot s({waiter});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason, Reason::kOwnerExited);
  EXPECT_TRUE(SameObject(a.threads[0].object, TL_STATE_RWLOCK, 0xa0));
}

TEST(WaitGraphTest, WriterQueuedBehindReaders) {
  tl_thread writer = Thread(10, "writer", TL_STATE_RWLOCK, 0xa0);
  writer.rwlock_readers = 3;
  Snapshot s({writer, WaitsForWake(11, "reader", TL_STATE_COND, 0xc0, {})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
  EXPECT_EQ(a.threads[0].waiting_for.kind, WaitTarget::Kind::kReaders);
  EXPECT_EQ(a.threads[0].waiting_for.readers, 3);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kHeldByReaders);
  EXPECT_EQ(a.threads[0].readers, 3);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
}

TEST(WaitGraphTest, CondvarNobodyElseTouchedIsDefinite) {
  Snapshot s({WaitsForWake(10, "lonely", TL_STATE_COND, 0xc0, {}),
              WaitsForWake(11, "sem", TL_STATE_SEM, 0xd0, {11}),  // only itself
              WaitsForWake(12, "futex", TL_STATE_FUTEX, 0xe0, {})});
  WaitGraphAnalysis a = Analyze(s);
  for (const ThreadAnalysis& t : a.threads) {
    EXPECT_EQ(t.certainty, Certainty::kDefinite);
    EXPECT_EQ(t.basis, ThreadAnalysis::Basis::kHistory);
    EXPECT_EQ(t.reason, Reason::kNoWakers);
  }
  EXPECT_TRUE(SameObject(a.threads[1].object, TL_STATE_SEM, 0xd0));
  EXPECT_TRUE(SameObject(a.threads[2].object, TL_STATE_FUTEX, 0xe0));
  EXPECT_EQ(a.threads[0].waiting_for.kind, WaitTarget::Kind::kNobody);
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
}

TEST(WaitGraphTest, AFutexWaitNoHookSawBeginHasNoKnownWakersAndIsPossible) {
  // Found from the kernel's view (a lock inside a library): the calls that wake it are not
  // hooked either, so nobody recorded as touching its word proves nothing.
  tl_thread unseen = WaitsForWake(10, "unseen", TL_STATE_FUTEX, 0xe0, {});
  unseen.unwind.kind = TL_UNWIND_SYSCALL;
  tl_thread hooked = WaitsForWake(11, "hooked", TL_STATE_FUTEX, 0xe8, {});
  hooked.unwind.kind = TL_UNWIND_HOOK;  // syscall(SYS_futex): its wakers are recorded
  WaitGraphAnalysis a = Analyze(Snapshot({unseen, hooked}));
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakersUnseen);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[1].reason, Reason::kNoWakers);
}

TEST(WaitGraphTest, CondvarWhoseSignallerIsAliveIsPossible) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {11}),
              Thread(11, "signaller", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakerCanRun);
  EXPECT_EQ(a.threads[0].other, 11);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[1].reason, Reason::kSleeps);
  EXPECT_EQ(a.threads[1].basis, ThreadAnalysis::Basis::kState);
}

TEST(WaitGraphTest, WakerOutsideTheSnapshotIsAlive) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {1})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakerOutside);
  EXPECT_EQ(a.threads[0].other, 1);
}

TEST(WaitGraphTest, OverflowedWakersArePossible) {
  tl_thread waiter = WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {11, 12, 13, 14});
  waiter.wakers_overflow = 1;
  // Every recorded waker is stuck, but there were more than the table holds.
  Snapshot s({waiter, WaitsForWake(11, "w1", TL_STATE_COND, 0xc1, {}),
              WaitsForWake(12, "w2", TL_STATE_COND, 0xc2, {}),
              WaitsForWake(13, "w3", TL_STATE_COND, 0xc3, {}),
              WaitsForWake(14, "w4", TL_STATE_COND, 0xc4, {})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakersOverflow);
}

TEST(WaitGraphTest, WakersThatAreAllStuckMakeItDefinite) {
  // Two senders on one condvar that nobody reads: each "waited on" it, neither can wake the other.
  Snapshot s({WaitsForWake(10, "sender-1", TL_STATE_COND, 0xc0, {11}),
              WaitsForWake(11, "sender-2", TL_STATE_COND, 0xc0, {10}),
              WaitsForWake(12, "waiter", TL_STATE_COND, 0xc1, {13, 10}),
              Thread(13, "done", TL_STATE_FINISHED)});
  WaitGraphAnalysis a = Analyze(s);
  for (const ThreadAnalysis& t : a.threads) EXPECT_EQ(t.certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakersStuck);
  EXPECT_EQ(a.threads[0].wakers, (Tids{11}));
  EXPECT_EQ(a.threads[2].wakers, (Tids{13, 10}));  // in the order the shim recorded them
  EXPECT_EQ(a.threads[3].reason, Reason::kFinished);
  EXPECT_EQ(a.threads[3].basis, ThreadAnalysis::Basis::kExited);
}

TEST(WaitGraphTest, OneLiveWakerAmongStuckOnesMakesItPossible) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {11, 12}),
              Thread(11, "done", TL_STATE_FINISHED), Thread(12, "busy", TL_STATE_RUNNING)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, Reason::kWakerCanRun);
  EXPECT_EQ(a.threads[0].other, 12);  // the one that can run, not the first
}

TEST(WaitGraphTest, MutexHolderWaitingForTheWaiterIsDefinite) {
  // A lost wakeup: the holder waits on a condvar only the waiter has signalled.
  Snapshot s({WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 11),
              WaitsForWake(11, "holder", TL_STATE_COND, 0xc0, {10})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason, Reason::kBlockerLeaked);
  EXPECT_EQ(a.threads[0].other, 11);
  EXPECT_EQ(a.threads[1].reason, Reason::kWakersStuck);
  EXPECT_EQ(a.threads[1].wakers, (Tids{10}));
}

TEST(WaitGraphTest, StatesWithoutAnObject) {
  tl_thread io = Thread(13, "reader", TL_STATE_IO);
  io.syscall_number = 0;  // read
  Snapshot s({Thread(10, "done", TL_STATE_FINISHED), Thread(11, "spin", TL_STATE_RUNNING),
              Thread(12, "nap", TL_STATE_SLEEP), io, Thread(14, "party", TL_STATE_BARRIER, 0xba),
              Thread(15, "io-somewhere", TL_STATE_IO), Thread(16, "odd", TL_STATE_COUNT)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  for (int i = 1; i < 7; ++i) EXPECT_EQ(a.threads[i].certainty, Certainty::kPossible) << i;
  const Reason reasons[] = {Reason::kFinished,     Reason::kRunning,   Reason::kSleeps,
                            Reason::kInSystemCall, Reason::kAtBarrier, Reason::kInSystemCall,
                            Reason::kUnknownState};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(a.threads[i].reason, reasons[i]) << i;
  EXPECT_EQ(a.threads[3].syscall, 0);
  EXPECT_EQ(a.threads[5].syscall, -1);
  EXPECT_EQ(a.threads[4].basis, ThreadAnalysis::Basis::kHistory);
  EXPECT_TRUE(SameObject(a.threads[4].object, TL_STATE_BARRIER, 0xba));
  EXPECT_STREQ(CertaintyName(a.threads[0].certainty), "definite");
  EXPECT_STREQ(CertaintyName(a.threads[1].certainty), "possible");
}

TEST(WaitGraphTest, ExitWouldHang) {
  tl_thread waiter = WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {});
  waiter.object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
  tl_thread party = Thread(12, "party", TL_STATE_BARRIER, 0xba);
  party.object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
  // Destroying a mutex does not wait for anyone: the flag means nothing there.
  tl_thread locker = WaitsFor(13, "locker", TL_STATE_MUTEX, 0xa0, 1);
  locker.object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
  Snapshot s({waiter, WaitsForWake(11, "other", TL_STATE_COND, 0xc8, {}), party, locker});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.threads[0].exit_would_hang);
  EXPECT_FALSE(a.threads[1].exit_would_hang);
  EXPECT_TRUE(a.threads[2].exit_would_hang);
  EXPECT_FALSE(a.threads[3].exit_would_hang);
}

// Reachability (issue 16): a scan that ran decides the blocked threads it covers; facts stand.
Reachability Scanned(std::vector<ThreadReach> threads) {
  Reachability r;
  r.ok = true;
  r.threads = std::move(threads);
  return r;
}

ThreadReach Fate(ThreadFate fate) {
  ThreadReach reach;
  reach.fate = fate;
  return reach;
}

TEST(WaitGraphTest, AnAbandonedThreadIsDefiniteByReachabilityEvenWithLiveWakers) {
  // History says "possible" (a live waker); the scan proves nothing that runs can reach it.
  Snapshot s(
      {WaitsForWake(4242, "w", TL_STATE_COND, 0x1f00, {4243}), Thread(4243, "s", TL_STATE_SLEEP)});
  ThreadReach abandoned = Fate(ThreadFate::kAbandoned);
  abandoned.last_references = LastReferences::kStuckThread;
  abandoned.referrer = 4250;
  Reachability reach = Scanned({abandoned, Fate(ThreadFate::kNotBlocked)});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kUnreachable);
  EXPECT_EQ(a.threads[0].reason, Reason::kAbandoned);
  EXPECT_EQ(a.threads[0].proof.last_references, LastReferences::kStuckThread);
  EXPECT_EQ(a.threads[0].proof.referrer, 4250);
  EXPECT_EQ(a.threads[1].basis, ThreadAnalysis::Basis::kState);  // kept: it sleeps
  EXPECT_EQ(a.threads[1].reason, Reason::kSleeps);
}

TEST(WaitGraphTest, AReachableThreadIsPossibleWhateverTheHistorySays) {
  // History says "definite" (nothing ever signalled it: a C11 condvar the shim does not see).
  Snapshot s({Thread(4242, "consumer", TL_STATE_COND, 0x1f00)});
  EXPECT_EQ(AnalyzeWaitGraph(s.snapshot).threads[0].certainty, Certainty::kDefinite);
  ThreadReach reachable = Fate(ThreadFate::kReachable);
  reachable.reached_by = ReachedBy::kPath;
  reachable.path.from_root = true;
  reachable.path.global = "q";
  reachable.path.hops = {{0x5000, 8}};
  Reachability reach = Scanned({reachable});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kReachable);
  EXPECT_EQ(a.threads[0].reason, Reason::kReachable);
  EXPECT_EQ(a.threads[0].proof.reached_by, ReachedBy::kPath);
  EXPECT_EQ(a.threads[0].proof.path.global, "q");
  ASSERT_EQ(a.threads[0].proof.path.hops.size(), 1u);
  EXPECT_EQ(a.threads[0].proof.path.hops[0].block, 0x5000u);
}

TEST(WaitGraphTest, AThreadFreeToRunByTheScanIsPossible) {
  Snapshot s({Thread(4242, "timed", TL_STATE_COND, 0x1f00), Thread(4243, "nap", TL_STATE_SLEEP)});
  ThreadReach timed = Fate(ThreadFate::kNotBlocked);
  timed.runs_because = RunsBecause::kTimedWait;
  Reachability reach = Scanned({timed, Fate(ThreadFate::kNotBlocked)});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kState);
  EXPECT_EQ(a.threads[0].reason, Reason::kRunsByItself);
  EXPECT_EQ(a.threads[0].proof.runs_because, RunsBecause::kTimedWait);
  EXPECT_EQ(a.threads[1].reason, Reason::kSleeps);  // nothing to say: its own state stands
}

TEST(WaitGraphTest, FactsStandAgainstTheScan) {
  tl_thread exited = WaitsFor(4242, "m", TL_STATE_MUTEX, 0x1f00, 4299);
  exited.blocker_exited = 1;
  Snapshot s({exited, WaitsFor(4243, "a", TL_STATE_MUTEX, 0x2f00, 4244),
              WaitsFor(4244, "b", TL_STATE_MUTEX, 0x3f00, 4243)});
  Reachability reach = Scanned(
      {Fate(ThreadFate::kReachable), Fate(ThreadFate::kReachable), Fate(ThreadFate::kReachable)});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kExited);
  EXPECT_EQ(a.threads[0].reason, Reason::kOwnerExited);
  EXPECT_EQ(a.threads[1].basis, ThreadAnalysis::Basis::kDeadlock);
  EXPECT_EQ(a.threads[1].reason, Reason::kInCycle);
  EXPECT_EQ(a.threads[2].certainty, Certainty::kDefinite);
}

TEST(WaitGraphTest, AFailedScanKeepsTheHistoryAndSaysWhy) {
  Snapshot s({Thread(4242, "w", TL_STATE_COND, 0x1f00), Thread(4243, "nap", TL_STATE_SLEEP)});
  Reachability reach;
  reach.failure = {.code = ScanFailure::Code::kForeignAllocator, .allocator = "libjemalloc.so.2"};
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);  // history alone proves nothing
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kHistory);
  EXPECT_EQ(a.threads[0].reason, Reason::kNoWakers);
  EXPECT_TRUE(a.threads[0].unproven);
  EXPECT_FALSE(a.threads[1].unproven);  // possible anyway: nothing to prove
  EXPECT_EQ(a.scan_failure.code, ScanFailure::Code::kForeignAllocator);
  EXPECT_EQ(a.scan_failure.allocator, "libjemalloc.so.2");
  EXPECT_STREQ(BasisName(a.threads[0].basis), "history");
  // No scan at all is no failure.
  EXPECT_FALSE(AnalyzeWaitGraph(s.snapshot).threads[0].unproven);
  EXPECT_FALSE(AnalyzeWaitGraph(s.snapshot).scan_failure.failed());
}

TEST(WaitGraphTest, ADumpWithoutAScanNeverSaysDefiniteFromHistory) {
  // nginx's, redis's and Python's healthy waiters came out "definite" in JSON dumps: nothing had
  // signalled their condition variables yet, though the threads that will are alive.
  Snapshot s({Thread(4242, "w", TL_STATE_COND, 0x1f00), Thread(4243, "nap", TL_STATE_SLEEP)});
  for (tl_report_kind kind : {TL_REPORT_DUMP, TL_REPORT_WATCHDOG}) {
    s.snapshot.kind = kind;
    WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot);
    EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible) << kind;
    EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kHistory) << kind;
    EXPECT_EQ(a.threads[0].reason, Reason::kNoWakers) << kind;
    EXPECT_TRUE(a.threads[0].unproven) << kind;
    EXPECT_FALSE(a.threads[1].unproven) << kind;
    EXPECT_EQ(a.scan_failure.code, ScanFailure::Code::kNotAsked) << kind;
  }
  // An exit report made without a scan (leak_scan_max_mb=0) keeps history's certainty.
  s.snapshot.kind = TL_REPORT_LEAKS;
  EXPECT_EQ(AnalyzeWaitGraph(s.snapshot).threads[0].certainty, Certainty::kDefinite);
}

// Issue 17: the analysis gives facts and the writers word them, so that facts and words can
// change apart. A sentence written in analysis/ or reachability/ again — a string literal of three
// words or more — fails here; names, paths and formats they read with are fine.
TEST(AnalysisTest, WritesNoSentences) {
  const std::filesystem::path report =
      std::filesystem::path(THREADLEAK_SOURCE_DIR) / "preload/report";
  const std::regex comment(R"re(//[^\n]*)re");
  const std::regex character(R"re('(?:[^'\\\n]|\\.)')re");
  const std::regex literal(R"re("((?:[^"\\\n]|\\.)*)")re");
  const std::regex word(R"re([A-Za-z']{2,}[,.;:]?)re");
  size_t files = 0;
  for (const char* room : {"analysis", "reachability"}) {
    for (const auto& entry : std::filesystem::directory_iterator(report / room)) {
      std::ifstream file(entry.path());
      std::stringstream text;
      text << file.rdbuf();
      std::string code = std::regex_replace(text.str(), comment, "");
      code = std::regex_replace(code, character, "' '");
      ++files;
      for (std::sregex_iterator it(code.begin(), code.end(), literal), end; it != end; ++it) {
        const std::string content = (*it)[1];
        std::istringstream tokens(content);
        size_t words = 0;
        for (std::string token; tokens >> token;) words += std::regex_match(token, word);
        EXPECT_LT(words, 3u) << entry.path().filename() << ": \"" << content << "\"";
      }
    }
  }
  EXPECT_GT(files, 20u) << "the files of analysis/ and reachability/ (a folder moved?)";
}

}  // namespace
}  // namespace threadleak
