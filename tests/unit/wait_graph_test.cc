// The wait-for graph, fed snapshots built by hand: edges from confirmed blockers only, cycles of
// every kind, the certainty rules, and the DOT and text shapes the writers print.
#include "preload/report/analysis/wait_graph.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace threadleak {
namespace {

using Tids = std::vector<int32_t>;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

tl_thread Thread(int32_t tid, const char* name, uint32_t state, uintptr_t object = 0) {
  tl_thread thread{};
  thread.tid = tid;
  strncpy(thread.name, name, TL_NAME_LEN - 1);
  thread.state = state;
  thread.object = object;
  thread.blocked_ns = -1;
  thread.syscall_number = -1;
  thread.creator_tid = -1;
  return thread;
}

// A wait for a thread (mutex owner, rwlock writer, joined thread), read the same twice.
tl_thread WaitsFor(int32_t tid, const char* name, uint32_t state, uintptr_t object,
                   int32_t blocker) {
  tl_thread thread = Thread(tid, name, state, object);
  thread.blocker_tid = blocker;
  thread.blocker_tid_second_read = blocker;
  return thread;
}

tl_thread WaitsForWake(int32_t tid, const char* name, uint32_t state, uintptr_t object,
                       std::vector<int32_t> wakers) {
  tl_thread thread = Thread(tid, name, state, object);
  thread.waker_count = static_cast<uint32_t>(wakers.size());
  for (size_t i = 0; i < wakers.size() && i < TL_MAX_WAKERS; ++i) thread.wakers[i] = wakers[i];
  return thread;
}

// Owns the threads a snapshot points to.
struct Snapshot {
  explicit Snapshot(std::vector<tl_thread> t, uint32_t trigger = TL_TRIGGER_EXIT)
      : threads(std::move(t)) {
    snapshot.pid = 1234;
    snapshot.trigger = trigger;
    snapshot.thread_count = static_cast<uint32_t>(threads.size());
    snapshot.threads = threads.data();
  }
  std::vector<tl_thread> threads;
  tl_snapshot snapshot{};  // field by field: the struct grows
};

WaitGraphAnalysis Analyze(const Snapshot& s) {
  WaitGraphAnalysis analysis = AnalyzeWaitGraph(s.snapshot);
  EXPECT_EQ(analysis.threads.size(), s.threads.size());
  return analysis;
}

bool SameEdge(const WaitEdge& e, int32_t from, int32_t to, uint32_t state, uintptr_t object) {
  return e.from == from && e.to == to && e.state == state && e.object == object;
}

TEST(WaitGraphTest, EmptySnapshot) {
  Snapshot s({});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(RenderDeadlockText(s.snapshot, a), "");
  EXPECT_EQ(VerdictCounts(a), "");
  EXPECT_EQ(RenderDot(s.snapshot, a).rfind("digraph threadleak {\n", 0), 0u);
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
  for (const ThreadAnalysis& t : a.threads) {
    EXPECT_TRUE(t.deadlocked);
    EXPECT_EQ(t.certainty, Certainty::kDefinite);
    EXPECT_EQ(t.waits_on_deadlock, 0);
    EXPECT_STREQ(VerdictPhrase(t), "deadlocked");
  }
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{11}));
  EXPECT_EQ(a.threads[1].blocked_by, (Tids{10}));
  EXPECT_EQ(a.threads[0].waiting_for, "waiting for mutex 0xb0 held by thread 11 \"locker-b\"");
  EXPECT_EQ(a.threads[0].reason,
            "it waits for mutex 0xb0 held by thread 11 \"locker-b\", which waits for mutex 0xa0 "
            "held by this thread");
  EXPECT_EQ(RenderDeadlockText(s.snapshot, a),
            "Found one deadlock (2 threads):\n"
            "  thread 10 \"locker-a\" waits for mutex 0xb0 held by thread 11 \"locker-b\"\n"
            "  thread 11 \"locker-b\" waits for mutex 0xa0 held by thread 10 \"locker-a\"\n");
  EXPECT_EQ(VerdictCounts(a), "2 deadlocked");
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
  EXPECT_EQ(r.threads[0].waiting_for, "");
  EXPECT_EQ(r.threads[0].certainty, Certainty::kPossible);
  EXPECT_PRED2(Contains, r.threads[0].reason, "changed between two reads (11, then 12)");
  // b waits for a, which may still get its lock.
  EXPECT_EQ(r.threads[1].blocked_by, (Tids{10}));
  EXPECT_EQ(r.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(r.threads[1].reason, "thread 10 \"a\", which holds mutex 0xa0, may still release it");
}

TEST(WaitGraphTest, ZeroOwnerIsNoEdge) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 0)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_PRED2(Contains, a.threads[0].reason, "found no owner of mutex 0xb0");
}

TEST(WaitGraphTest, BlockerOutsideTheSnapshotIsAlive) {
  // 1 is the main thread, left out of an exit report; it may still unlock.
  Snapshot s({WaitsFor(10, "worker", TL_STATE_MUTEX, 0xb0, 1),
              WaitsFor(11, "joiner", TL_STATE_JOIN, 0x7f00, 1)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{1}));
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].waiting_for,
            "waiting for mutex 0xb0 held by thread 1 (not in this report)");
  EXPECT_EQ(a.threads[0].reason,
            "mutex 0xb0 is held by thread 1 (alive, not in this report), which may still release "
            "it");
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[1].waiting_for, "waiting to join thread 1 (not in this report)");
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
  EXPECT_EQ(a.threads[2].reason,
            "it waits for mutex 0xb0 held by thread 20 \"b\", which waits for mutex 0xc0 held by "
            "thread 30 \"c\", which waits for mutex 0xa0 held by this thread");
  EXPECT_PRED2(Contains, RenderDeadlockText(s.snapshot, a), "Found one deadlock (3 threads):\n");
}

TEST(WaitGraphTest, LongCycleReasonsStayShort) {
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
  EXPECT_EQ(
      a.threads[0].reason,
      "it waits for mutex 0x1040 held by thread 101 \"philosopher\", which waits for mutex "
      "0x1080 held by thread 102 \"philosopher\", which waits for mutex 0x10c0 held by thread "
      "103 \"philosopher\", and so on around a cycle of 1000 threads back to this thread");
  EXPECT_EQ(a.threads[2 * kThreads - 1].waits_on_deadlock, 100);
  EXPECT_EQ(a.threads[2 * kThreads - 1].certainty, Certainty::kDefinite);
  EXPECT_EQ(
      a.threads[2 * kThreads - 1].reason,
      "thread 5998 \"queue\", which holds mutex 0x93e7, is stuck behind deadlocked thread 100 "
      "\"philosopher\"");
}

TEST(WaitGraphTest, CycleThroughAJoin) {
  // The parent holds a mutex and joins its child; the child waits for that mutex.
  Snapshot s({WaitsFor(10, "parent", TL_STATE_JOIN, 0x7f00, 11),
              WaitsFor(11, "child", TL_STATE_MUTEX, 0xa0, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11}));
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 11, TL_STATE_JOIN, 0x7f00));
  EXPECT_EQ(a.threads[0].waiting_for, "waiting to join thread 11 \"child\"");
  EXPECT_EQ(a.threads[0].reason,
            "it joins thread 11 \"child\", which waits for mutex 0xa0 held by this thread");
  EXPECT_EQ(a.threads[1].reason,
            "it waits for mutex 0xa0 held by thread 10 \"parent\", which joins this thread");
  EXPECT_PRED2(Contains, RenderDeadlockText(s.snapshot, a),
               "  thread 10 \"parent\" joins thread 11 \"child\"\n");
}

TEST(WaitGraphTest, MixedCycleOfRwlockMutexAndJoin) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_RWLOCK, 0xa0, 11),
              WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 12),
              WaitsFor(12, "c", TL_STATE_JOIN, 0x7f00, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11, 12}));
  EXPECT_EQ(a.deadlocks[0].edges[0].state, TL_STATE_RWLOCK);
  EXPECT_EQ(a.deadlocks[0].edges[2].state, TL_STATE_JOIN);
  EXPECT_EQ(a.threads[0].waiting_for,
            "waiting for rwlock 0xa0 held for writing by thread 11 \"b\"");
  EXPECT_EQ(a.threads[0].reason,
            "it waits for rwlock 0xa0 held for writing by thread 11 \"b\", which waits for mutex "
            "0xb0 held by thread 12 \"c\", which joins this thread");
}

TEST(WaitGraphTest, SelfDeadlock) {
  Snapshot s({WaitsFor(10, "relocker", TL_STATE_MUTEX, 0xa0, 10)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 1u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10}));
  ASSERT_EQ(a.deadlocks[0].edges.size(), 1u);
  EXPECT_TRUE(SameEdge(a.deadlocks[0].edges[0], 10, 10, TL_STATE_MUTEX, 0xa0));
  EXPECT_TRUE(a.threads[0].deadlocked);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{10}));
  EXPECT_EQ(a.threads[0].waiting_for,
            "waiting for mutex 0xa0 held by thread 10 \"relocker\" (itself)");
  EXPECT_EQ(a.threads[0].reason,
            "it waits for mutex 0xa0, which it holds itself (nothing else can unlock it)");
  EXPECT_EQ(RenderDeadlockText(s.snapshot, a),
            "Found one deadlock (1 thread):\n"
            "  thread 10 \"relocker\" waits for mutex 0xa0 held by thread 10 \"relocker\"\n");
}

TEST(WaitGraphTest, TwoDeadlocks) {
  Snapshot s({WaitsFor(10, "a", TL_STATE_MUTEX, 0xa0, 11),
              WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 10),
              WaitsFor(20, "c", TL_STATE_MUTEX, 0xc0, 20)});
  WaitGraphAnalysis a = Analyze(s);
  ASSERT_EQ(a.deadlocks.size(), 2u);
  EXPECT_EQ(a.deadlocks[0].tids, (Tids{10, 11}));
  EXPECT_EQ(a.deadlocks[1].tids, (Tids{20}));
  const std::string text = RenderDeadlockText(s.snapshot, a);
  EXPECT_EQ(text.rfind("Found 2 deadlocks:\nDeadlock 1 of 2 (2 threads):\n", 0), 0u) << text;
  EXPECT_PRED2(Contains, text, "Deadlock 2 of 2 (1 thread):\n");
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
  EXPECT_EQ(a.threads[2].reason, "thread 10 \"a\", which holds mutex 0xa0, is itself deadlocked");
  EXPECT_STREQ(VerdictPhrase(a.threads[2]), "definitely leaked");
  EXPECT_EQ(a.threads[3].waits_on_deadlock, 10);
  EXPECT_EQ(a.threads[3].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[3].reason,
            "thread 12 \"bystander\", which it joins, is stuck behind deadlocked thread 10 \"a\"");
  EXPECT_EQ(VerdictCounts(a), "2 deadlocked, 2 definitely leaked");
}

TEST(WaitGraphTest, JoiningADefinitelyLeakedThreadIsDefinite) {
  Snapshot s({WaitsFor(10, "supervisor", TL_STATE_JOIN, 0x7f00, 11),
              WaitsForWake(11, "hung", TL_STATE_COND, 0xc0, {})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].waits_on_deadlock, 0);
  EXPECT_EQ(a.threads[0].reason, "thread 11 \"hung\", which it joins, is definitely leaked");
}

TEST(WaitGraphTest, JoiningAPossiblyLeakedThreadIsPossible) {
  Snapshot s({WaitsFor(10, "supervisor", TL_STATE_JOIN, 0x7f00, 11),
              Thread(11, "sleeper", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason, "thread 11 \"sleeper\", which it joins, may still end");
}

TEST(WaitGraphTest, JoiningAThreadThatExitedIsPossible) {
  tl_thread joiner = WaitsFor(10, "joiner", TL_STATE_JOIN, 0x7f00, 11);
  joiner.blocker_exited = 1;
  Snapshot s({joiner});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_PRED2(Contains, a.threads[0].reason, "has exited; the join should return");
}

TEST(WaitGraphTest, MutexOwnerExitedIsDefinite) {
  tl_thread waiter = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 11);
  waiter.blocker_exited = 1;
  // A new thread reusing tid 11 must not be taken for the owner.
  Snapshot s({waiter, Thread(11, "reused", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].blocked_by, (Tids{11}));
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].waiting_for, "waiting for mutex 0xa0 held by thread 11, which has exited");
  EXPECT_EQ(a.threads[0].reason,
            "mutex 0xa0 is held by thread 11, which has exited without unlocking it (nothing can "
            "unlock it)");
  const std::string dot = RenderDot(s.snapshot, a);
  EXPECT_PRED2(Contains, dot, "  10 -> \"exited 11\" [label=\"mutex 0xa0\"];\n");
  EXPECT_PRED2(Contains, dot, "  \"exited 11\" [label=\"11\\nexited\", style=\"dashed\"];\n");
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
  EXPECT_EQ(a.threads[0].waiting_for,
            "waiting for mutex 0xa0 held by thread 4242 (not a thread of this process: another "
            "process's, or one that has exited)");
  EXPECT_EQ(a.threads[0].reason,
            "mutex 0xa0 lies in memory shared with other processes; it is held by thread 4242, "
            "which is not a thread of this process: a thread of another process may still "
            "release it (threadleak sees only this process's threads)");
  // Who waits for it follows it.
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
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
  EXPECT_EQ(a.threads[0].reason,
            "semaphore 0xc0 is process-shared (PTHREAD_PROCESS_SHARED): a thread of another "
            "process may still wake it (threadleak sees only this process's threads)");
  // A reachability proof does not override it either.
  Reachability reach;
  reach.ok = true;
  reach.threads.resize(1);
  reach.threads[0].fate = ThreadFate::kAbandoned;
  reach.threads[0].explanation = "no thread that can still run reaches semaphore 0xc0";
  WaitGraphAnalysis proven = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(proven.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(proven.threads[0].basis, ThreadAnalysis::Basis::kShared);
}

TEST(WaitGraphTest, RwlockWriterExitedIsDefinite) {
  tl_thread waiter = WaitsFor(10, "reader", TL_STATE_RWLOCK, 0xa0, 11);
  waiter.blocker_exited = 1;
  Snapshot s({waiter});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_PRED2(Contains, a.threads[0].reason,
               "rwlock 0xa0 is held for writing by thread 11, which "
               "has exited");
}

TEST(WaitGraphTest, WriterQueuedBehindReaders) {
  tl_thread writer = Thread(10, "writer", TL_STATE_RWLOCK, 0xa0);
  writer.rwlock_readers = 1;
  Snapshot s({writer, WaitsForWake(11, "reader", TL_STATE_COND, 0xc0, {})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
  EXPECT_EQ(a.threads[0].waiting_for, "waiting for rwlock 0xa0 held by 1 reader");
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_PRED2(Contains, a.threads[0].reason,
               "rwlock 0xa0 is held by 1 reader, which threadleak "
               "does not record");
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  const std::string dot = RenderDot(s.snapshot, a);
  EXPECT_PRED2(Contains, dot, "  10 -> \"readers 0xa0\" [label=\"rwlock 0xa0\"];\n");
  EXPECT_PRED2(Contains, dot, "\"readers 0xa0\" [label=\"1 reader\"");

  writer.rwlock_readers = 3;
  Snapshot three({writer});
  EXPECT_EQ(Analyze(three).threads[0].waiting_for, "waiting for rwlock 0xa0 held by 3 readers");
}

TEST(WaitGraphTest, CondvarNobodyElseTouchedIsDefinite) {
  Snapshot s({WaitsForWake(10, "lonely", TL_STATE_COND, 0xc0, {}),
              WaitsForWake(11, "sem", TL_STATE_SEM, 0xd0, {11}),  // only itself
              WaitsForWake(12, "futex", TL_STATE_FUTEX, 0xe0, {})});
  WaitGraphAnalysis a = Analyze(s);
  for (const ThreadAnalysis& t : a.threads) EXPECT_EQ(t.certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason,
            "nothing else has ever signalled or waited on condition variable 0xc0 (no other live "
            "thread can wake it)");
  EXPECT_EQ(a.threads[1].reason,
            "nothing else has ever posted or waited on semaphore 0xd0 (no other live thread can "
            "wake it)");
  EXPECT_EQ(a.threads[2].reason,
            "nothing else has ever woken or waited on futex 0xe0 (no other live thread can wake "
            "it)");
  EXPECT_EQ(a.threads[0].waiting_for, "");
  EXPECT_TRUE(a.threads[0].blocked_by.empty());
}

TEST(WaitGraphTest, CondvarWhoseSignallerIsAliveIsPossible) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {11}),
              Thread(11, "signaller", TL_STATE_SLEEP)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason,
            "thread 11 \"signaller\" has signalled or waited on condition variable 0xc0 and is "
            "still alive");
  EXPECT_EQ(a.threads[1].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[1].reason, "it sleeps and will wake up by itself");
  EXPECT_PRED2(Contains, RenderDot(s.snapshot, a),
               "  10 -> 11 [label=\"cond 0xc0 (may wake it)\", style=\"dashed\"];\n");
}

TEST(WaitGraphTest, WakerOutsideTheSnapshotIsAlive) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {1})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].reason,
            "thread 1 has signalled or waited on condition variable 0xc0 and is still alive (not "
            "in this report)");
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
  EXPECT_PRED2(Contains, a.threads[0].reason, "more threads than threadleak tracks");
}

TEST(WaitGraphTest, WakersThatAreAllStuckMakeItDefinite) {
  // Two senders on one condvar that nobody reads: each "waited on" it, neither can wake the other.
  Snapshot s({WaitsForWake(10, "sender-1", TL_STATE_COND, 0xc0, {11}),
              WaitsForWake(11, "sender-2", TL_STATE_COND, 0xc0, {10}),
              WaitsForWake(12, "waiter", TL_STATE_COND, 0xc1, {13, 10}),
              Thread(13, "done", TL_STATE_FINISHED)});
  WaitGraphAnalysis a = Analyze(s);
  for (const ThreadAnalysis& t : a.threads) EXPECT_EQ(t.certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason,
            "only threads that can no longer run have signalled or waited on condition variable "
            "0xc0 (thread 11 \"sender-2\"); no other live thread can wake it");
  EXPECT_PRED2(Contains, a.threads[2].reason, "(thread 13 \"done\", thread 10 \"sender-1\")");
}

TEST(WaitGraphTest, OneLiveWakerAmongStuckOnesMakesItPossible) {
  Snapshot s({WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {11, 12}),
              Thread(11, "done", TL_STATE_FINISHED), Thread(12, "busy", TL_STATE_RUNNING)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_PRED2(Contains, a.threads[0].reason, "thread 12 \"busy\" has signalled");
}

TEST(WaitGraphTest, MutexHolderWaitingForTheWaiterIsDefinite) {
  // A lost wakeup: the holder waits on a condvar only the waiter has signalled.
  Snapshot s({WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 11),
              WaitsForWake(11, "holder", TL_STATE_COND, 0xc0, {10})});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_TRUE(a.deadlocks.empty());
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[1].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason,
            "thread 11 \"holder\", which holds mutex 0xa0, is definitely leaked");
}

TEST(WaitGraphTest, StatesWithoutAnObject) {
  tl_thread io = Thread(13, "reader", TL_STATE_IO);
  io.syscall_number = 0;  // read
  Snapshot s({Thread(10, "done", TL_STATE_FINISHED), Thread(11, "spin", TL_STATE_RUNNING),
              Thread(12, "nap", TL_STATE_SLEEP), io, Thread(14, "party", TL_STATE_BARRIER, 0xba)});
  WaitGraphAnalysis a = Analyze(s);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].reason, "it has finished, but nothing joined or detached it");
  for (int i = 1; i < 5; ++i) EXPECT_EQ(a.threads[i].certainty, Certainty::kPossible) << i;
  EXPECT_EQ(a.threads[3].reason, "it waits in read() for another thread or process");
  EXPECT_EQ(a.threads[4].reason, "it waits at barrier 0xba; another thread may still arrive");
  EXPECT_EQ(VerdictCounts(a), "1 definitely leaked, 4 possibly leaked");
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
  EXPECT_EQ(ExitHangPhrase(waiter),
            "exit would hang: condition variable 0xc0 is destroyed at exit (a static object's "
            "destructor) while this thread waits on it");
}

TEST(WaitGraphTest, DotNodesEdgesAndColours) {
  Snapshot s({WaitsFor(10, "locker-a", TL_STATE_MUTEX, 0xb0, 11),
              WaitsFor(11, "locker-b", TL_STATE_MUTEX, 0xa0, 10),
              WaitsFor(12, "by\"stander\\", TL_STATE_MUTEX, 0xa0, 10),
              WaitsForWake(13, "waiter", TL_STATE_COND, 0xc0, {1}),
              WaitsFor(14, "", TL_STATE_JOIN, 0x7f00, 1)});
  WaitGraphAnalysis a = Analyze(s);
  const std::string dot = RenderDot(s.snapshot, a);
  EXPECT_EQ(dot.rfind("digraph threadleak {\n", 0), 0u) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  EXPECT_PRED2(Contains, dot,
               "  10 [label=\"10 \\\"locker-a\\\"\\nmutex\", style=\"filled,bold\", "
               "fillcolor=\"red\", color=\"red\"");
  EXPECT_PRED2(Contains, dot,
               // by"stander\ shown as the text report shows it: "by\"stander\\"
               "  12 [label=\"12 \\\"by\\\\\\\"stander\\\\\\\\\\\"\\nmutex\", "
               "style=\"filled,bold\", fillcolor=\"orange\"");
  EXPECT_PRED2(Contains, dot,
               "  13 [label=\"13 \\\"waiter\\\"\\ncond\", style=\"filled\", "
               "fillcolor=\"yellow\"");
  EXPECT_PRED2(Contains, dot, "  14 [label=\"14\\njoin\"");
  EXPECT_PRED2(Contains, dot, "  10 -> 11 [label=\"mutex 0xb0\", color=\"red\", penwidth=2];\n");
  EXPECT_PRED2(Contains, dot, "  11 -> 10 [label=\"mutex 0xa0\", color=\"red\", penwidth=2];\n");
  EXPECT_PRED2(Contains, dot, "  12 -> 10 [label=\"mutex 0xa0\"];\n");
  EXPECT_PRED2(Contains, dot, "  14 -> 1 [label=\"join 0x7f00\"];\n");
  // Thread 1 is drawn once, as a dashed node outside the report.
  const std::string outside = "  1 [label=\"1\\nnot in this report\", style=\"dashed\"];\n";
  ASSERT_PRED2(Contains, dot, outside);
  EXPECT_EQ(dot.find(outside), dot.rfind(outside));
  EXPECT_PRED2(Contains, dot,
               "tooltip=\"deadlocked: it waits for mutex 0xb0 held by thread 11 "
               "\\\"locker-b\\\"");
}

TEST(WaitGraphTest, DotKeepsControlBytesAndBadUtf8OutOfTheFile) {
  // Shown as the text report shows them: "a\x0ab\xffé" (each backslash doubled in the file).
  Snapshot s({Thread(10, "a\nb\xff\xc3\xa9", TL_STATE_RUNNING)});
  const std::string dot = RenderDot(s.snapshot, Analyze(s));
  EXPECT_PRED2(Contains, dot, "label=\"10 \\\"a\\\\x0ab\\\\xff\xc3\xa9\\\"\\nrunning\"");
  EXPECT_EQ(dot.find('\xff'), std::string::npos) << "no byte that is not UTF-8 in the file";
}

TEST(WaitGraphTest, ExitedBlockerIsADashedNode) {
  tl_thread waiter = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 99);
  waiter.blocker_exited = 1;
  Snapshot s({waiter});
  const std::string dot = RenderDot(s.snapshot, Analyze(s));
  EXPECT_PRED2(Contains, dot, "  \"exited 99\" [label=\"99\\nexited\", style=\"dashed\"];\n");
  EXPECT_PRED2(Contains, dot, "  10 -> \"exited 99\" [label=\"mutex 0xa0\"];\n");
}

// Reachability (issue 16): a scan that ran decides the blocked threads it covers; facts stand.
Reachability Scanned(std::vector<ThreadReach> threads) {
  Reachability r;
  r.ok = true;
  r.threads = std::move(threads);
  return r;
}

TEST(WaitGraphTest, AnAbandonedThreadIsDefiniteByReachabilityEvenWithLiveWakers) {
  // History says "possible" (a live waker); the scan proves nothing that runs can reach it.
  Snapshot s(
      {WaitsForWake(4242, "w", TL_STATE_COND, 0x1f00, {4243}), Thread(4243, "s", TL_STATE_SLEEP)});
  Reachability reach =
      Scanned({{ThreadFate::kAbandoned, "no thread that can still run can reach it"},
               {ThreadFate::kNotBlocked, ""}});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kUnreachable);
  EXPECT_EQ(a.threads[0].reason, "no thread that can still run can reach it");
  EXPECT_EQ(a.threads[1].basis, ThreadAnalysis::Basis::kState);  // kept: it sleeps
  EXPECT_TRUE(Contains(RenderDot(s.snapshot, a),
                       "definitely leaked: no thread that can still run can reach it (basis: "
                       "unreachable)"));
}

TEST(WaitGraphTest, AReachableThreadIsPossibleWhateverTheHistorySays) {
  // History says "definite" (nothing ever signalled it: a C11 condvar the shim does not see).
  Snapshot s({Thread(4242, "consumer", TL_STATE_COND, 0x1f00)});
  EXPECT_EQ(AnalyzeWaitGraph(s.snapshot).threads[0].certainty, Certainty::kDefinite);
  Reachability reach = Scanned({{ThreadFate::kReachable, "reachable from global `q`"}});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kReachable);
  EXPECT_EQ(a.threads[0].reason, "reachable from global `q`");
}

TEST(WaitGraphTest, FactsStandAgainstTheScan) {
  tl_thread exited = WaitsFor(4242, "m", TL_STATE_MUTEX, 0x1f00, 4299);
  exited.blocker_exited = 1;
  Snapshot s({exited, WaitsFor(4243, "a", TL_STATE_MUTEX, 0x2f00, 4244),
              WaitsFor(4244, "b", TL_STATE_MUTEX, 0x3f00, 4243)});
  Reachability reach = Scanned({{ThreadFate::kReachable, "reachable"},
                                {ThreadFate::kReachable, "reachable"},
                                {ThreadFate::kReachable, "reachable"}});
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kDefinite);
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kExited);
  EXPECT_EQ(a.threads[1].basis, ThreadAnalysis::Basis::kDeadlock);
  EXPECT_EQ(a.threads[2].certainty, Certainty::kDefinite);
}

TEST(WaitGraphTest, AFailedScanKeepsTheHistoryAndSaysWhy) {
  Snapshot s({Thread(4242, "w", TL_STATE_COND, 0x1f00)});
  Reachability reach;
  reach.failure = "the process uses another allocator (libjemalloc.so.2), not glibc malloc";
  WaitGraphAnalysis a = AnalyzeWaitGraph(s.snapshot, &reach);
  EXPECT_EQ(a.threads[0].certainty, Certainty::kPossible);  // history alone proves nothing
  EXPECT_EQ(a.threads[0].basis, ThreadAnalysis::Basis::kHistory);
  EXPECT_TRUE(Contains(a.threads[0].reason,
                       "not proven by reachability: the process uses another "
                       "allocator (libjemalloc.so.2)"))
      << a.threads[0].reason;
  EXPECT_STREQ(BasisName(a.threads[0].basis), "history");
}

}  // namespace
}  // namespace threadleak
