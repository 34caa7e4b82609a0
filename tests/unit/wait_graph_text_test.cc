// The words the writers give the wait-for graph's facts (render/wait_graph_text.h,
// render/scan_text.h, render/dot_report.h), on snapshots built by hand. The golden files
// (golden_report_test.cc) hold every phrase byte for byte; these say what each shape means.
#include "preload/report/render/wait_graph_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "preload/report/render/dot_report.h"
#include "preload/report/render/scan_text.h"
#include "tests/unit/wait_graph_snapshots.h"

namespace threadleak {
namespace {

using namespace handmade;  // NOLINT: the snapshot builders

// A snapshot, its analysis and their words.
struct Words {
  explicit Words(Snapshot s, const Reachability* reach = nullptr)
      : snapshot(std::move(s)),
        graph(AnalyzeWaitGraph(snapshot.snapshot, reach)),
        text(snapshot.snapshot, graph) {}
  std::string Reason(size_t i) const { return text.Reason(graph.threads[i]); }
  std::string WaitingFor(size_t i) const { return text.WaitingFor(graph.threads[i]); }
  std::string Deadlocks() const { return RenderDeadlockText(snapshot.snapshot, graph); }
  std::string Dot() const { return RenderDot(snapshot.snapshot, graph); }

  Snapshot snapshot;
  WaitGraphAnalysis graph;
  WaitGraphText text;
};

TEST(WaitGraphTextTest, EmptySnapshot) {
  Words w(Snapshot({}));
  EXPECT_EQ(w.Deadlocks(), "");
  EXPECT_EQ(VerdictCounts(w.graph), "");
  EXPECT_EQ(w.Dot().rfind("digraph threadleak {\n", 0), 0u);
}

TEST(WaitGraphTextTest, AbBaMutexDeadlock) {
  Words w(Snapshot({WaitsFor(10, "locker-a", TL_STATE_MUTEX, 0xb0, 11),
                    WaitsFor(11, "locker-b", TL_STATE_MUTEX, 0xa0, 10)}));
  for (const ThreadAnalysis& t : w.graph.threads) EXPECT_STREQ(VerdictPhrase(t), "deadlocked");
  EXPECT_EQ(w.WaitingFor(0), "waiting for mutex 0xb0 held by thread 11 \"locker-b\"");
  EXPECT_EQ(w.Reason(0),
            "it waits for mutex 0xb0 held by thread 11 \"locker-b\", which waits for mutex 0xa0 "
            "held by this thread");
  EXPECT_EQ(w.Reason(1),
            "it waits for mutex 0xa0 held by thread 10 \"locker-a\", which waits for mutex 0xb0 "
            "held by this thread");
  EXPECT_EQ(w.Deadlocks(),
            "Found one deadlock (2 threads):\n"
            "  thread 10 \"locker-a\" waits for mutex 0xb0 held by thread 11 \"locker-b\"\n"
            "  thread 11 \"locker-b\" waits for mutex 0xa0 held by thread 10 \"locker-a\"\n");
  EXPECT_EQ(VerdictCounts(w.graph), "2 deadlocked");
}

TEST(WaitGraphTextTest, RacyReadsAndABlockerThatCanRun) {
  tl_thread a = WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 11);
  a.blocker_tid_second_read = 12;
  Words w(Snapshot({a, WaitsFor(11, "b", TL_STATE_MUTEX, 0xa0, 10)}));
  EXPECT_EQ(w.WaitingFor(0), "");
  EXPECT_PRED2(Contains, w.Reason(0), "changed between two reads (11, then 12)");
  EXPECT_EQ(w.Reason(1), "thread 10 \"a\", which holds mutex 0xa0, may still release it");
}

TEST(WaitGraphTextTest, BlockerOutsideTheSnapshot) {
  Words w(Snapshot({WaitsFor(10, "worker", TL_STATE_MUTEX, 0xb0, 1),
                    WaitsFor(11, "joiner", TL_STATE_JOIN, 0x7f00, 1)}));
  EXPECT_EQ(w.WaitingFor(0), "waiting for mutex 0xb0 held by thread 1 (not in this report)");
  EXPECT_EQ(w.Reason(0),
            "mutex 0xb0 is held by thread 1 (alive, not in this report), which may still release "
            "it");
  EXPECT_EQ(w.WaitingFor(1), "waiting to join thread 1 (not in this report)");
}

TEST(WaitGraphTextTest, LongCycleReasonsStayShort) {
  // Every thread of a 1000-thread cycle tells it from its own place, in four clauses at most.
  constexpr int kThreads = 1000;
  std::vector<tl_thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.push_back(WaitsFor(100 + i, "philosopher", TL_STATE_MUTEX,
                               0x1000 + 0x40 * ((i + 1) % kThreads), 100 + (i + 1) % kThreads));
  }
  threads.push_back(WaitsFor(5000, "queue", TL_STATE_MUTEX, 0x9000, 100));
  threads.push_back(WaitsFor(5001, "queue", TL_STATE_MUTEX, 0x9001, 5000));
  Words w(Snapshot(std::move(threads)));
  EXPECT_EQ(
      w.Reason(0),
      "it waits for mutex 0x1040 held by thread 101 \"philosopher\", which waits for mutex "
      "0x1080 held by thread 102 \"philosopher\", which waits for mutex 0x10c0 held by thread "
      "103 \"philosopher\", and so on around a cycle of 1000 threads back to this thread");
  EXPECT_EQ(w.Reason(kThreads),
            "thread 100 \"philosopher\", which holds mutex 0x9000, is itself deadlocked");
  EXPECT_EQ(w.Reason(kThreads + 1),
            "thread 5000 \"queue\", which holds mutex 0x9001, is stuck behind deadlocked thread "
            "100 \"philosopher\"");
}

TEST(WaitGraphTextTest, CyclesThroughJoinsAndRwlocks) {
  Words join(Snapshot({WaitsFor(10, "parent", TL_STATE_JOIN, 0x7f00, 11),
                       WaitsFor(11, "child", TL_STATE_MUTEX, 0xa0, 10)}));
  EXPECT_EQ(join.WaitingFor(0), "waiting to join thread 11 \"child\"");
  EXPECT_EQ(join.Reason(0),
            "it joins thread 11 \"child\", which waits for mutex 0xa0 held by this thread");
  EXPECT_EQ(join.Reason(1),
            "it waits for mutex 0xa0 held by thread 10 \"parent\", which joins this thread");
  EXPECT_PRED2(Contains, join.Deadlocks(), "  thread 10 \"parent\" joins thread 11 \"child\"\n");

  Words mixed(Snapshot({WaitsFor(10, "a", TL_STATE_RWLOCK, 0xa0, 11),
                        WaitsFor(11, "b", TL_STATE_MUTEX, 0xb0, 12),
                        WaitsFor(12, "c", TL_STATE_JOIN, 0x7f00, 10)}));
  EXPECT_EQ(mixed.WaitingFor(0), "waiting for rwlock 0xa0 held for writing by thread 11 \"b\"");
  EXPECT_EQ(mixed.Reason(0),
            "it waits for rwlock 0xa0 held for writing by thread 11 \"b\", which waits for mutex "
            "0xb0 held by thread 12 \"c\", which joins this thread");
  EXPECT_PRED2(Contains, mixed.Deadlocks(), "Found one deadlock (3 threads):\n");
}

TEST(WaitGraphTextTest, SelfDeadlocks) {
  Words w(Snapshot({WaitsFor(10, "relocker", TL_STATE_MUTEX, 0xa0, 10),
                    WaitsFor(11, "self-joiner", TL_STATE_JOIN, 0x7f00, 11)}));
  EXPECT_EQ(w.WaitingFor(0), "waiting for mutex 0xa0 held by thread 10 \"relocker\" (itself)");
  EXPECT_EQ(w.Reason(0),
            "it waits for mutex 0xa0, which it holds itself (nothing else can unlock it)");
  EXPECT_EQ(w.Reason(1), "it joins itself");
  const std::string text = w.Deadlocks();
  EXPECT_EQ(text.rfind("Found 2 deadlocks:\nDeadlock 1 of 2 (1 thread):\n", 0), 0u) << text;
  EXPECT_PRED2(Contains, text,
               "  thread 10 \"relocker\" waits for mutex 0xa0 held by thread 10 \"relocker\"\n");
  EXPECT_PRED2(Contains, text, "Deadlock 2 of 2 (1 thread):\n");
}

TEST(WaitGraphTextTest, BehindADeadlock) {
  Words w(Snapshot({WaitsFor(10, "a", TL_STATE_MUTEX, 0xb0, 11),
                    WaitsFor(11, "b", TL_STATE_MUTEX, 0xa0, 10),
                    WaitsFor(12, "bystander", TL_STATE_MUTEX, 0xa0, 10),
                    WaitsFor(13, "joiner", TL_STATE_JOIN, 0x7f00, 12)}));
  EXPECT_EQ(w.Reason(2), "thread 10 \"a\", which holds mutex 0xa0, is itself deadlocked");
  EXPECT_STREQ(VerdictPhrase(w.graph.threads[2]), "definitely leaked");
  EXPECT_EQ(w.Reason(3),
            "thread 12 \"bystander\", which it joins, is stuck behind deadlocked thread 10 \"a\"");
  EXPECT_EQ(VerdictCounts(w.graph), "2 deadlocked, 2 definitely leaked");
}

TEST(WaitGraphTextTest, JoinedThreads) {
  tl_thread gone = WaitsFor(12, "joiner", TL_STATE_JOIN, 0x7f00, 99);
  gone.blocker_exited = 1;
  Words w(Snapshot({WaitsFor(10, "supervisor", TL_STATE_JOIN, 0x7f00, 11),
                    WaitsForWake(11, "hung", TL_STATE_COND, 0xc0, {}), gone,
                    WaitsFor(13, "waits", TL_STATE_JOIN, 0x7f10, 14),
                    Thread(14, "sleeper", TL_STATE_SLEEP)}));
  EXPECT_EQ(w.Reason(0), "thread 11 \"hung\", which it joins, is definitely leaked");
  EXPECT_EQ(w.Reason(2), "thread 99, which it joins, has exited; the join should return");
  EXPECT_EQ(w.WaitingFor(2), "waiting to join thread 99, which has exited");
  EXPECT_EQ(w.Reason(3), "thread 14 \"sleeper\", which it joins, may still end");
}

TEST(WaitGraphTextTest, OwnerExitedIsNamedWithoutItsTid) {
  tl_thread waiter = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 11);
  waiter.blocker_exited = 1;
  tl_thread reader = WaitsFor(12, "reader", TL_STATE_RWLOCK, 0xb0, 11);
  reader.blocker_exited = 1;
  // A new thread reusing tid 11 must not lend the exited owner its name.
  Words w(Snapshot({waiter, Thread(11, "reused", TL_STATE_SLEEP), reader}));
  EXPECT_EQ(w.WaitingFor(0), "waiting for mutex 0xa0 held by thread 11, which has exited");
  EXPECT_EQ(w.Reason(0),
            "mutex 0xa0 is held by thread 11, which has exited without unlocking it (nothing can "
            "unlock it)");
  EXPECT_PRED2(Contains, w.Reason(2),
               "rwlock 0xb0 is held for writing by thread 11, which has "
               "exited");
  const std::string dot = w.Dot();
  EXPECT_PRED2(Contains, dot, "  10 -> \"exited 11\" [label=\"mutex 0xa0\"];\n");
  EXPECT_PRED2(Contains, dot, "  \"exited 11\" [label=\"11\\nexited\", style=\"dashed\"];\n");
}

TEST(WaitGraphTextTest, SharedObjects) {
  tl_thread held = WaitsFor(10, "waiter", TL_STATE_MUTEX, 0xa0, 4242);
  held.blocker_exited = 1;
  held.object_flags = TL_OBJECT_IN_SHARED_MEMORY;
  tl_thread sem = WaitsForWake(11, "sem", TL_STATE_SEM, 0xc0, {});
  sem.object_flags = TL_OBJECT_PROCESS_SHARED;
  Words w(Snapshot({held, sem}));
  EXPECT_EQ(w.WaitingFor(0),
            "waiting for mutex 0xa0 held by thread 4242 (not a thread of this process: another "
            "process's, or one that has exited)");
  EXPECT_EQ(w.Reason(0),
            "mutex 0xa0 lies in memory shared with other processes; it is held by thread 4242, "
            "which is not a thread of this process: a thread of another process may still "
            "release it (threadleak sees only this process's threads)");
  EXPECT_EQ(w.Reason(1),
            "semaphore 0xc0 is process-shared (PTHREAD_PROCESS_SHARED): a thread of another "
            "process may still wake it (threadleak sees only this process's threads)");
}

TEST(WaitGraphTextTest, RwlockReaders) {
  tl_thread one = Thread(10, "writer", TL_STATE_RWLOCK, 0xa0);
  one.rwlock_readers = 1;
  tl_thread three = Thread(11, "writer-2", TL_STATE_RWLOCK, 0xb0);
  three.rwlock_readers = 3;
  Words w(Snapshot({one, three}));
  EXPECT_EQ(w.WaitingFor(0), "waiting for rwlock 0xa0 held by 1 reader");
  EXPECT_EQ(w.WaitingFor(1), "waiting for rwlock 0xb0 held by 3 readers");
  EXPECT_EQ(w.Reason(0),
            "rwlock 0xa0 is held by 1 reader, which threadleak does not record; one of them may "
            "still release it");
  const std::string dot = w.Dot();
  EXPECT_PRED2(Contains, dot, "  10 -> \"readers 0xa0\" [label=\"rwlock 0xa0\"];\n");
  EXPECT_PRED2(Contains, dot, "\"readers 0xa0\" [label=\"1 reader\"");
}

TEST(WaitGraphTextTest, Wakers) {
  tl_thread crowd = WaitsForWake(13, "crowd", TL_STATE_COND, 0xc3, {11, 12, 13, 14});
  crowd.wakers_overflow = 1;
  Words w(Snapshot({WaitsForWake(10, "lonely", TL_STATE_COND, 0xc0, {}),
                    WaitsForWake(11, "sem", TL_STATE_SEM, 0xd0, {11}),
                    WaitsForWake(12, "futex", TL_STATE_FUTEX, 0xe0, {}), crowd,
                    WaitsForWake(14, "waiter", TL_STATE_COND, 0xc4, {15}),
                    Thread(15, "signaller", TL_STATE_SLEEP),
                    WaitsForWake(16, "outside", TL_STATE_COND, 0xc6, {1}),
                    WaitsForWake(17, "stuck", TL_STATE_SEM, 0xd7, {10, 12})}));
  EXPECT_EQ(w.Reason(0),
            "nothing else has ever signalled or waited on condition variable 0xc0 (no other live "
            "thread can wake it)");
  EXPECT_EQ(w.Reason(1),
            "nothing else has ever posted or waited on semaphore 0xd0 (no other live thread can "
            "wake it)");
  EXPECT_EQ(w.Reason(2),
            "nothing else has ever woken or waited on futex 0xe0 (no other live thread can wake "
            "it)");
  EXPECT_PRED2(Contains, w.Reason(3), "more threads than threadleak tracks");
  tl_thread unseen = WaitsForWake(18, "unseen", TL_STATE_FUTEX, 0xe8, {});
  unseen.unwind.kind = TL_UNWIND_SYSCALL;
  EXPECT_EQ(Words(Snapshot({unseen})).Reason(0),
            "threadleak did not see this wait on futex 0xe8 begin (a futex wait inside a library, "
            "or a system call made without syscall()), so it does not know what may wake it");
  EXPECT_EQ(w.Reason(4),
            "thread 15 \"signaller\" has signalled or waited on condition variable 0xc4 and is "
            "still alive");
  EXPECT_EQ(w.Reason(6),
            "thread 1 has signalled or waited on condition variable 0xc6 and is still alive (not "
            "in this report)");
  EXPECT_EQ(w.Reason(7),
            "only threads that can no longer run have posted or waited on semaphore 0xd7 (thread "
            "10 \"lonely\", thread 12 \"futex\"); no other live thread can wake it");
  EXPECT_PRED2(Contains, w.Dot(),
               "  14 -> 15 [label=\"cond 0xc4 (may wake it)\", style=\"dashed\"];\n");
}

TEST(WaitGraphTextTest, States) {
  tl_thread io = Thread(13, "reader", TL_STATE_IO);
  io.syscall_number = 0;  // read
  Words w(Snapshot({Thread(10, "done", TL_STATE_FINISHED), Thread(11, "spin", TL_STATE_RUNNING),
                    Thread(12, "nap", TL_STATE_SLEEP), io,
                    Thread(14, "party", TL_STATE_BARRIER, 0xba)}));
  EXPECT_EQ(w.Reason(0), "it has finished, but nothing joined or detached it");
  EXPECT_EQ(w.Reason(1), "it is running, not blocked in a wait");
  EXPECT_EQ(w.Reason(2), "it sleeps and will wake up by itself");
  EXPECT_EQ(w.Reason(3), "it waits in read() for another thread or process");
  EXPECT_EQ(w.Reason(4), "it waits at barrier 0xba; another thread may still arrive");
  EXPECT_EQ(VerdictCounts(w.graph), "1 definitely leaked, 4 possibly leaked");
}

TEST(WaitGraphTextTest, ExitHang) {
  tl_thread waiter = WaitsForWake(10, "waiter", TL_STATE_COND, 0xc0, {});
  waiter.object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
  Words w(Snapshot({waiter}));
  EXPECT_EQ(ExitHangPhrase(w.graph.threads[0]),
            "exit would hang: condition variable 0xc0 is destroyed at exit (a static object's "
            "destructor) while this thread waits on it");
}

TEST(WaitGraphTextTest, DotNodesEdgesAndColours) {
  Words w(Snapshot({WaitsFor(10, "locker-a", TL_STATE_MUTEX, 0xb0, 11),
                    WaitsFor(11, "locker-b", TL_STATE_MUTEX, 0xa0, 10),
                    WaitsFor(12, "by\"stander\\", TL_STATE_MUTEX, 0xa0, 10),
                    WaitsForWake(13, "waiter", TL_STATE_COND, 0xc0, {1}),
                    WaitsFor(14, "", TL_STATE_JOIN, 0x7f00, 1)}));
  const std::string dot = w.Dot();
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

TEST(WaitGraphTextTest, DotKeepsControlBytesAndBadUtf8OutOfTheFile) {
  // Shown as the text report shows them: "a\x0ab\xffé" (each backslash doubled in the file).
  Words w(Snapshot({Thread(10, "a\nb\xff\xc3\xa9", TL_STATE_RUNNING)}));
  const std::string dot = w.Dot();
  EXPECT_PRED2(Contains, dot, "label=\"10 \\\"a\\\\x0ab\\\\xff\xc3\xa9\\\"\\nrunning\"");
  EXPECT_EQ(dot.find('\xff'), std::string::npos) << "no byte that is not UTF-8 in the file";
}

TEST(WaitGraphTextTest, ProofsOfTheScan) {
  Reachability reach;
  reach.ok = true;
  reach.threads.resize(3);
  reach.threads[0].fate = ThreadFate::kAbandoned;
  reach.threads[0].last_references = LastReferences::kOwnStack;
  reach.threads[1].fate = ThreadFate::kReachable;
  reach.threads[1].reached_by = ReachedBy::kPath;
  reach.threads[1].path = {
      true, {RootKind::kGlobal, 0, 0, "/srv/bin/app", false}, 0x4010, "q", {{0x5000, 8}}, 1};
  reach.threads[2].fate = ThreadFate::kNotBlocked;
  reach.threads[2].runs_because = RunsBecause::kTimedWait;
  Words w(
      Snapshot({WaitsForWake(4242, "w", TL_STATE_COND, 0x1f00, {4243}),
                Thread(4243, "c", TL_STATE_COND, 0x5008), Thread(4244, "t", TL_STATE_SEM, 0x6000)}),
      &reach);
  EXPECT_EQ(w.Reason(0),
            "no thread that can still run can reach condition variable 0x1f00: the only "
            "references are on this thread's own stack");
  EXPECT_EQ(w.Reason(1),
            "condition variable 0x5008 is reachable from global `q` in app → heap block 0x5000+8");
  EXPECT_EQ(w.Reason(2), "its wait has a time limit, so it wakes up by itself");
  EXPECT_PRED2(Contains, w.Dot(),
               "definitely leaked: no thread that can still run can reach condition variable "
               "0x1f00: the only references are on this thread's own stack (basis: "
               "unreachable)");
}

TEST(WaitGraphTextTest, ALongPathShowsItsEnds) {
  ThreadReach reach;
  reach.fate = ThreadFate::kReachable;
  reach.reached_by = ReachedBy::kPath;
  reach.path = {true,
                {RootKind::kStack, 0, 4250, "", false},
                0,
                "",
                {{0x1000, 0}, {0x2000, 8}, {0x8000, 16}, {0x9000, 0}},
                7};
  EXPECT_EQ(ProofPhrase(reach, {TL_STATE_FUTEX, 0x9000}),
            "futex 0x9000 is reachable from the stack of thread 4250 → heap block 0x1000+0 → "
            "heap block 0x2000+8 → … (3 more blocks) → heap block 0x8000+16 → heap block "
            "0x9000+0");
}

TEST(WaitGraphTextTest, AFailedScanSaysWhyInTheReason) {
  Reachability reach;
  reach.failure = {.code = ScanFailure::Code::kForeignAllocator, .allocator = "libjemalloc.so.2"};
  Words w(Snapshot({Thread(4242, "w", TL_STATE_COND, 0x1f00)}), &reach);
  EXPECT_EQ(w.Reason(0),
            "nothing else has ever signalled or waited on condition variable 0x1f00 (no other "
            "live thread can wake it) (not proven by reachability: the process uses another "
            "allocator (libjemalloc.so.2), not glibc malloc)");
  EXPECT_STREQ(VerdictPhrase(w.graph.threads[0]), "possibly leaked");
  EXPECT_EQ(ScanFailurePhrase({.code = ScanFailure::Code::kThreadMoved, .tid = 4250}),
            "thread 4250 moved during the scan");
  EXPECT_EQ(ScanFailurePhrase({}), "");
}

TEST(WaitGraphTextTest, ADumpWithoutAScanSaysSoInTheReason) {
  Snapshot dump({Thread(4242, "w", TL_STATE_COND, 0x1f00)}, TL_TRIGGER_SIGNAL);
  dump.snapshot.kind = TL_REPORT_DUMP;
  Words w(std::move(dump), nullptr);
  EXPECT_EQ(w.Reason(0),
            "nothing else has ever signalled or waited on condition variable 0x1f00 (no other "
            "live thread can wake it) (not proven by reachability: no scan was made; a dump or a "
            "watchdog report makes one with leak_scan=1 (and leak_scan_max_mb above 0))");
  EXPECT_STREQ(VerdictPhrase(w.graph.threads[0]), "possibly leaked");
}

TEST(WaitGraphTextTest, AJoinerOfAnUnprovenThreadDoesNotCallItDefinitelyLeaked) {
  // Main joining a pool thread that waits on a condition variable nothing signalled yet: in a
  // dump without a scan both are "possibly leaked", and the joiner's reason must not say the
  // other is definitely leaked.
  Snapshot dump({Thread(4242, "w", TL_STATE_COND, 0x1f00),
                 WaitsFor(4243, "main", TL_STATE_JOIN, 0x7f00, 4242)},
                TL_TRIGGER_SIGNAL);
  dump.snapshot.kind = TL_REPORT_DUMP;
  Words w(std::move(dump), nullptr);
  EXPECT_STREQ(VerdictPhrase(w.graph.threads[1]), "possibly leaked");
  EXPECT_EQ(w.Reason(1).rfind("thread 4242 \"w\", which it joins, is leaked too, by history alone "
                              "(not proven by reachability: no scan was made",
                              0),
            0u)
      << w.Reason(1);
}

}  // namespace
}  // namespace threadleak
