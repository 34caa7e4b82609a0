// Whole reports, text, JSON and DOT, rendered from one hand-built snapshot whose frames, times and
// addresses are fixed, and compared byte for byte with the files in tests/unit/golden/. Any change
// to a report's shape — a word of a verdict, the header, the summary, a field — fails here and
// shows in review as a diff of those files.
//
// After a deliberate change: THREADLEAK_UPDATE_GOLDEN=1 build/bin/unit_test
// --gtest_filter='GoldenReport.*' rewrites them; review the diff before committing it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "preload/report/analysis/wait_graph.h"
#include "preload/report/render/dot_report.h"
#include "preload/report/render/json_report.h"
#include "preload/report/render/phrases.h"
#include "preload/report/render/text_report.h"
#include "preload/report/report_context.h"

namespace threadleak {
namespace {

SourceFrame Frame(uintptr_t pc, const char* function, const char* file, int line,
                  const char* module = "/srv/app/bin/server", bool inlined = false) {
  SourceFrame frame;
  frame.pc = pc;
  frame.function = function;
  frame.file = file;
  frame.line = line;
  frame.module = module;
  frame.module_offset = pc - 0x555555554000;
  frame.build_id = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c";
  frame.inlined = inlined;
  return frame;
}

tl_thread ServerThread(int32_t tid, const char* name, uint32_t state, uintptr_t object,
                       int64_t blocked_ns) {
  tl_thread thread{};
  thread.tid = tid;
  strncpy(thread.name, name, TL_NAME_LEN - 1);
  thread.state = state;
  thread.object = object;
  thread.blocked_ns = blocked_ns;
  thread.syscall_number = -1;
  thread.creator_tid = 100;
  strcpy(thread.creator_name, "server");
  thread.stack = {TL_STACK_RETURNS, 1, {0x555555556000u + static_cast<uintptr_t>(tid)}};
  thread.creation = {TL_STACK_RETURNS, 1, {0x555555557000u + static_cast<uintptr_t>(tid)}};
  return thread;
}

// A server at exit: a consumer on a condition variable nobody else touched, two workers in an
// AB/BA deadlock, a reader blocked in read() with an odd name, a finished thread never joined, and
// a thread a rule suppresses.
class GoldenReport : public ::testing::Test {
 protected:
  GoldenReport() {
    threads_.push_back(ServerThread(101, "consumer", TL_STATE_COND, 0x5555555a0040, 2'500'000'000));
    tl_thread a = ServerThread(102, "locker-a", TL_STATE_MUTEX, 0x5555555a1000, 1'200'000'000);
    a.blocker_tid = a.blocker_tid_second_read = 103;
    tl_thread b = ServerThread(103, "locker-b", TL_STATE_MUTEX, 0x5555555a1040, 1'190'000'000);
    b.blocker_tid = b.blocker_tid_second_read = 102;
    threads_.push_back(a);
    threads_.push_back(b);
    tl_thread reader = ServerThread(104, "read\ner \"x\"", TL_STATE_IO, 0, -1);
    reader.syscall_number = 0;  // read
    threads_.push_back(reader);
    tl_thread done = ServerThread(105, "done", TL_STATE_FINISHED, 0, -1);
    done.stack = {};
    threads_.push_back(done);
    threads_.push_back(ServerThread(106, "metrics", TL_STATE_SLEEP, 0, 30'000'000));
    snapshot_ = {};
    snapshot_.pid = 4242;
    snapshot_.trigger = TL_TRIGGER_EXIT;
    snapshot_.kind = TL_REPORT_LEAKS;
    snapshot_.thread_count = static_cast<uint32_t>(threads_.size());
    snapshot_.threads = threads_.data();

    const char* where = "/srv/app/src/server.cc";
    std::vector<std::vector<SourceFrame>> stacks = {
        {Frame(0x555555556101, "__futex_abstimed_wait_common", "./nptl/futex-internal.c", 57,
               "/usr/lib/x86_64-linux-gnu/libc.so.6"),
         Frame(0x555555556102, "Queue::Pop()", where, 41, "/srv/app/bin/server", true),
         Frame(0x555555556103, "Consumer::Run()", where, 88)},
        {Frame(0x555555556201, "Account::Transfer(Account&, long)", where, 120),
         Frame(0x555555556202, "Worker::Loop()", where, 133)},
        {Frame(0x555555556301, "Account::Transfer(Account&, long)", where, 121),
         Frame(0x555555556302, "Worker::Loop()", where, 133)},
        {Frame(0x555555556401, "read", "../sysdeps/unix/sysv/linux/read.c", 26,
               "/usr/lib/x86_64-linux-gnu/libc.so.6"),
         Frame(0x555555556402, "Reader::Next()", where, 200)},
        {},
        {Frame(0x555555556601, "Metrics::Tick()", where, 300)}};
    for (size_t i = 0; i < threads_.size(); ++i) {
      SymbolizedThread thread;
      thread.raw = &threads_[i];
      thread.stack = Frames(stacks[i]);
      thread.creation = Frames({Frame(0x555555557001, "Server::Start()", where, 20),
                                Frame(0x555555557002, "ServerTest_Starts_Test::TestBody()",
                                      "/srv/app/test/server_test.cc", 12)});
      symbolized_.push_back(std::move(thread));
    }
    SuppressionRule rule;
    rule.kind = TL_SUPPRESS_THREAD;
    rule.pattern = "metrics";
    rule.source = "suppressions.txt:3";
    context_ = MakeReportContext(snapshot_, symbolized_, {rule});
  }

  std::vector<tl_thread> threads_;
  tl_snapshot snapshot_{};
  std::vector<SymbolizedThread> symbolized_;
  ReportContext context_;
};

std::string GoldenPath(const char* name) {
  return std::string(THREADLEAK_SOURCE_DIR) + "/tests/unit/golden/" + name;
}

// Compares `rendered` with the golden file `name` (or rewrites it when asked).
void ExpectGolden(const char* name, const std::string& rendered) {
  const std::string path = GoldenPath(name);
  const char* update = std::getenv("THREADLEAK_UPDATE_GOLDEN");
  if (update != nullptr && std::strcmp(update, "1") == 0) {
    std::ofstream(path, std::ios::binary) << rendered;
    return;
  }
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file) << "missing golden file " << path << " (THREADLEAK_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << file.rdbuf();
  EXPECT_EQ(rendered, expected.str())
      << "the " << name << " report changed shape; if that is meant, rerun with "
      << "THREADLEAK_UPDATE_GOLDEN=1 and review the diff of " << path;
}

TEST_F(GoldenReport, Text) {
  ExpectGolden("report.txt", RenderTextReport(context_));
}

TEST_F(GoldenReport, Json) {
  // The version is the build's, not the report's shape.
  std::string json = std::regex_replace(RenderJsonReport(context_),
                                        std::regex("\"version\":\"[^\"]*\""), "\"version\":\"V\"");
  ExpectGolden("report.json", json);
}

TEST_F(GoldenReport, Dot) {
  ExpectGolden("report.dot", RenderDot(snapshot_, context_.graph));
}

// Every reason the analysis gives, one thread each, so that each phrase is pinned byte for byte:
// deadlocks (self, short cycles through every kind of edge, a cycle too long to tell in full),
// threads behind them, objects shared with other processes, blockers outside the report or
// exited, racy reads, waits nobody can be named for, wakers of every kind, every state, and
// the "waiting for" line and exit-hang warning in each form. Rules, built-in ones among them,
// suppress two threads and are listed.
class GoldenReasons : public ::testing::Test {
 protected:
  // A thread with one frame of its own (no two are grouped) and no creation stack.
  tl_thread& Add(int32_t tid, const char* name, uint32_t state, uintptr_t object = 0,
                 int32_t blocker = 0) {
    tl_thread thread{};
    thread.tid = tid;
    strncpy(thread.name, name, TL_NAME_LEN - 1);
    thread.state = state;
    thread.object = object;
    thread.blocked_ns = -1;
    thread.syscall_number = -1;
    thread.creator_tid = -1;
    thread.blocker_tid = thread.blocker_tid_second_read = blocker;
    threads_.push_back(thread);
    return threads_.back();
  }
  void Wakers(tl_thread& thread, std::vector<int32_t> wakers) {
    thread.waker_count = static_cast<uint32_t>(wakers.size());
    for (size_t i = 0; i < wakers.size() && i < TL_MAX_WAKERS; ++i) thread.wakers[i] = wakers[i];
  }

  GoldenReasons() {
    threads_.reserve(64);  // Add hands out references
    // Deadlocks: a self-join, a writer relocking its rwlock, a 2-cycle through a join, one
    // through an rwlock, and a cycle of five told in part.
    Add(201, "self-joiner", TL_STATE_JOIN, 0x7f0000201000, 201);
    Add(202, "relocker", TL_STATE_RWLOCK, 0x6020, 202);
    Add(210, "ring-0", TL_STATE_MUTEX, 0x6100, 211);
    Add(211, "ring-1", TL_STATE_RWLOCK, 0x6110, 212);
    Add(212, "ring-2", TL_STATE_JOIN, 0x7f0000213000, 213);
    Add(213, "ring-3", TL_STATE_MUTEX, 0x6130, 214);
    Add(214, "ring-4", TL_STATE_MUTEX, 0x6140, 210);
    Add(215, "parent", TL_STATE_JOIN, 0x7f0000216000, 216);
    Add(216, "child", TL_STATE_MUTEX, 0x6160, 215);
    Add(217, "writer", TL_STATE_RWLOCK, 0x6170, 218);
    Add(218, "locker", TL_STATE_MUTEX, 0x6180, 217);
    // Behind a deadlock: directly, and through a chain (a join, an rwlock).
    Add(220, "bystander", TL_STATE_MUTEX, 0x6100, 210);
    Add(221, "supervisor", TL_STATE_JOIN, 0x7f0000220000, 220);
    Add(222, "reporter", TL_STATE_RWLOCK, 0x6220, 220);
    // Shared with other processes: in shared memory, or process-shared with an owner that is
    // no thread of this process, or process-shared with no owner known.
    Add(230, "shm-waiter", TL_STATE_COND, 0x7f0000300000).object_flags = TL_OBJECT_IN_SHARED_MEMORY;
    tl_thread& pshared = Add(231, "pshared", TL_STATE_MUTEX, 0x6310, 9999);
    pshared.object_flags = TL_OBJECT_PROCESS_SHARED;
    pshared.blocker_exited = 1;
    Add(232, "pshared-rw", TL_STATE_RWLOCK, 0x6320).object_flags = TL_OBJECT_PROCESS_SHARED;
    // Confirmed blockers outside the report: exited, or alive.
    Add(240, "joins-gone", TL_STATE_JOIN, 0x7f0000240000, 9001).blocker_exited = 1;
    Add(241, "joins-out", TL_STATE_JOIN, 0x7f0000241000, 9002);
    Add(242, "orphan-m", TL_STATE_MUTEX, 0x6420, 9003).blocker_exited = 1;
    Add(243, "orphan-rw", TL_STATE_RWLOCK, 0x6430, 9004).blocker_exited = 1;
    Add(244, "outside-m", TL_STATE_MUTEX, 0x6440, 9005);
    Add(245, "outside-rw", TL_STATE_RWLOCK, 0x6450, 9006);
    // Racy reads that disagree, and waits whose other side is not known.
    Add(250, "racy-join", TL_STATE_JOIN, 0x7f0000250000, 9010).blocker_tid_second_read = 9011;
    Add(251, "racy-lock", TL_STATE_MUTEX, 0x6510, 9012).blocker_tid_second_read = 0;
    Add(252, "no-owner", TL_STATE_MUTEX, 0x6520);
    Add(253, "queued-2", TL_STATE_RWLOCK, 0x6530).rwlock_readers = 2;
    Add(254, "queued-1", TL_STATE_RWLOCK, 0x6540).rwlock_readers = 1;
    Add(255, "no-writer", TL_STATE_RWLOCK, 0x6550);
    Add(256, "joins-who", TL_STATE_JOIN, 0x7f0000256000);
    // Waits that need waking, with every kind of waker.
    tl_thread& crowd = Add(260, "crowd", TL_STATE_COND, 0x6600);
    Wakers(crowd, {9020, 9021, 9022, 9023});
    crowd.wakers_overflow = 1;
    Wakers(Add(261, "sem-out", TL_STATE_SEM, 0x6610), {9024});
    Add(262, "futex-alone", TL_STATE_FUTEX, 0x6620);
    Wakers(Add(263, "cond-live", TL_STATE_COND, 0x6630), {263, 264});
    Wakers(Add(265, "sem-stuck", TL_STATE_SEM, 0x6650), {262, 266});
    // Every state.
    Add(264, "napper", TL_STATE_SLEEP);
    Add(266, "finished", TL_STATE_FINISHED);
    Add(270, "party", TL_STATE_BARRIER, 0x6700).object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
    Add(271, "in-syscall", TL_STATE_IO);
    Add(272, "poller", TL_STATE_IO).syscall_number = 7;  // poll
    Add(273, "spinner", TL_STATE_RUNNING);
    Add(274, "mystery", TL_STATE_COUNT);
    // Behind a thread of the report that can still run, or that is definitely leaked.
    Add(280, "behind-nap", TL_STATE_MUTEX, 0x6800, 264);
    Add(281, "joins-nap", TL_STATE_JOIN, 0x7f0000281000, 264);
    Add(282, "behind-leak", TL_STATE_RWLOCK, 0x6820, 262);
    // A static condition variable destroyed at exit while nothing can wake its waiter.
    Add(283, "static-cv", TL_STATE_COND, 0x6830).object_flags = TL_OBJECT_DESTROYED_AT_EXIT;
    // Suppressed: by the user's rule, and by a built-in one.
    Add(290, "metrics", TL_STATE_SLEEP);
    Add(291, "timer", TL_STATE_COND, 0x6910);

    snapshot_.pid = 4242;
    snapshot_.trigger = TL_TRIGGER_EXIT;
    snapshot_.kind = TL_REPORT_LEAKS;
    snapshot_.thread_count = static_cast<uint32_t>(threads_.size());
    snapshot_.threads = threads_.data();
    for (tl_thread& thread : threads_) {
      SymbolizedThread symbolized;
      symbolized.raw = &thread;
      const std::string function =
          thread.tid == 291 ? "timer_helper_thread" : "Task" + std::to_string(thread.tid) + "()";
      symbolized.stack = Frames({Frame(0x555555556000u + static_cast<uintptr_t>(thread.tid),
                                       function.c_str(), "/srv/app/src/tasks.cc", thread.tid)});
      symbolized_.push_back(std::move(symbolized));
    }
    SuppressionRule rule;
    rule.kind = TL_SUPPRESS_THREAD;
    rule.pattern = "metrics";
    rule.source = "suppressions.txt:3";
    std::vector<SuppressionRule> rules = {rule};
    rules.insert(rules.end(), DefaultSuppressions().begin(), DefaultSuppressions().end());
    context_ = MakeReportContext(snapshot_, symbolized_, rules);
    context_.print_suppressions = true;
  }

  std::vector<tl_thread> threads_;
  tl_snapshot snapshot_{};
  std::vector<SymbolizedThread> symbolized_;
  ReportContext context_;
};

TEST_F(GoldenReasons, Text) {
  ExpectGolden("reasons.txt", RenderTextReport(context_) + RenderSuppressionUse(context_));
}

TEST_F(GoldenReasons, Json) {
  std::string json = std::regex_replace(RenderJsonReport(context_),
                                        std::regex("\"version\":\"[^\"]*\""), "\"version\":\"V\"");
  ExpectGolden("reasons.json", json);
}

TEST_F(GoldenReasons, Dot) {
  ExpectGolden("reasons.dot", RenderDot(snapshot_, context_.graph));
}

// Every built-in rule as the report names it: the rule, then where it comes from and why.
TEST(GoldenRules, BuiltIn) {
  std::string text;
  for (const SuppressionRule& rule : DefaultSuppressions()) {
    text += RuleText(rule) + "  (" + RuleSource(rule) + ")\n";
  }
  ExpectGolden("builtin_rules.txt", text);
}

// What a reachability scan that ran says of each thread, in every form: abandoned (and where
// the last references are), reachable (by a blocker that can run, by where the object lies, by a
// path from each kind of root, long paths shortened, by a pointer next to the object), able to
// run by itself, and the facts that stand against the scan. Rendered as a leak report and as a
// dump, which says "abandoned" instead of a verdict.
class GoldenProofs : public ::testing::Test {
 protected:
  tl_thread& Add(int32_t tid, const char* name, uint32_t state, uintptr_t object = 0,
                 int32_t blocker = 0) {
    tl_thread thread{};
    thread.tid = tid;
    strncpy(thread.name, name, TL_NAME_LEN - 1);
    thread.state = state;
    thread.object = object;
    thread.blocked_ns = -1;
    thread.syscall_number = -1;
    thread.creator_tid = -1;
    thread.blocker_tid = thread.blocker_tid_second_read = blocker;
    threads_.push_back(thread);
    return threads_.back();
  }
  ThreadReach& Found(ThreadFate fate) {
    reach_.threads.emplace_back();
    reach_.threads.back().fate = fate;
    return reach_.threads.back();
  }
  void Abandoned(LastReferences last, pid_t referrer = 0) {
    ThreadReach& found = Found(ThreadFate::kAbandoned);
    found.last_references = last;
    found.referrer = referrer;
  }
  ThreadReach& Reached(ReachedBy how) {
    ThreadReach& found = Found(ThreadFate::kReachable);
    found.reached_by = how;
    return found;
  }
  void Runs(RunsBecause why) { Found(ThreadFate::kNotBlocked).runs_because = why; }
  static RootRef Root(RootKind kind, uintptr_t start, pid_t tid = 0, const char* module = "",
                      bool woken = false) {
    return {kind, start, tid, module, woken};
  }
  static RootRef Global(const char* module) { return Root(RootKind::kGlobal, 0, 0, module); }
  static ReachPath Path(RootRef root, uintptr_t word, const char* global, std::vector<HeapHop> hops,
                        size_t length = 0) {
    ReachPath path{true, std::move(root), word, global, std::move(hops), 0};
    path.length = length != 0 ? length : path.hops.size();
    return path;
  }

  GoldenProofs() {
    threads_.reserve(64);
    reach_.ok = true;
    const char* server = "/srv/app/bin/server";
    Add(301, "own-stack", TL_STATE_COND, 0x7000);
    Abandoned(LastReferences::kOwnStack);
    Add(302, "stuck-ref", TL_STATE_SEM, 0x7010);
    Abandoned(LastReferences::kStuckThread, 301);
    Add(303, "unfound", TL_STATE_FUTEX, 0x7020);
    Abandoned(LastReferences::kNoneFound);
    Add(304, "lock-runs", TL_STATE_MUTEX, 0x7030, 9100);
    Reached(ReachedBy::kBlockerCanRun).blocker = 9100;
    Add(305, "join-runs", TL_STATE_JOIN, 0x7f0000305000, 9101);
    Reached(ReachedBy::kBlockerCanRun).blocker = 9101;
    Add(306, "join-stack", TL_STATE_JOIN, 0x7f0000306000);
    Reached(ReachedBy::kJoinedThreadCanEnd);
    Add(307, "in-globals", TL_STATE_COND, 0x555555560000);
    Reached(ReachedBy::kObjectInRoot).root = Global(server);
    Add(308, "in-anon", TL_STATE_COND, 0x7f0000400000);
    Reached(ReachedBy::kObjectInRoot).root = Root(RootKind::kUnknown, 0x7f0000400000);
    Add(309, "named", TL_STATE_COND, 0x5555555a1010);
    Reached(ReachedBy::kPath).path =
        Path(Global(server), 0x555555560100, "g_queue", {{0x5555555a1000, 16}});
    Add(310, "unnamed", TL_STATE_COND, 0x5555555a2008);
    Reached(ReachedBy::kPath).path =
        Path(Global("/usr/lib/x86_64-linux-gnu/libfoo.so.1"), 0x7f0000500040, "",
             {{0x5555555a1800, 0}, {0x5555555a2000, 8}});
    Add(311, "long-path", TL_STATE_COND, 0x5555555a6000);
    Reached(ReachedBy::kPath).path = Path(
        Root(RootKind::kUnknown, 0x7f0000600000), 0x7f0000600010, "",
        {{0x5555555a3000, 0}, {0x5555555a3100, 8}, {0x5555555a3400, 32}, {0x5555555a6000, 0}}, 6);
    Add(312, "from-reporter", TL_STATE_SEM, 0x5555555a7000);
    Reached(ReachedBy::kPath).path = Path(Root(RootKind::kMonitor, 0x7ffd10000000, 4242),
                                          0x7ffd10000100, "", {{0x5555555a7000, 0}});
    Add(313, "from-woken", TL_STATE_SEM, 0x5555555a8010);
    Reached(ReachedBy::kPath).path = Path(Root(RootKind::kStack, 0x7ffd20000000, 304, "", true),
                                          0x7ffd20000100, "", {{0x5555555a8000, 16}});
    Add(314, "from-stack", TL_STATE_FUTEX, 0x5555555a9000);
    Reached(ReachedBy::kPath).path = Path(Root(RootKind::kStack, 0x7ffd30000000, 9200),
                                          0x7ffd30000100, "", {{0x5555555a9000, 0}});
    Add(315, "next-to-stack", TL_STATE_COND, 0x7ffd00001000);
    Reached(ReachedBy::kNextToRoot).root = Root(RootKind::kStack, 0x7ffd00000000, 9200);
    Add(316, "next-to-global", TL_STATE_COND, 0x7ffd00002000);
    Reached(ReachedBy::kNextToRoot).root = Global(server);
    Add(317, "next-to-block", TL_STATE_COND, 0x7ffd00003000);
    Reached(ReachedBy::kPathNextTo).path =
        Path(Global(server), 0x555555560200, "g_slots", {{0x5555555aa000, 8}});
    Add(318, "unexplained", TL_STATE_COND, 0x7ffd00004000);
    Reached(ReachedBy::kUnexplained);
    Add(319, "no-block", TL_STATE_COND, 0x5555555ab010);
    ThreadReach& no_block = Reached(ReachedBy::kPath);
    no_block.path = Path(Global(server), 0x555555560300, "g_cv", {{0x5555555ab000, 16}});
    no_block.own_stack_unknown = true;
    Add(320, "rootless", TL_STATE_COND, 0x5555555ac000);
    ReachPath rootless =
        Path(Root(RootKind::kGlobal, 0), 0, "",
             {{0x5555555ab800, 0}, {0x5555555ab900, 8}, {0x5555555abf00, 0}, {0x5555555ac000, 0}},
             kMaxPathHops);
    rootless.from_root = false;
    Reached(ReachedBy::kPath).path = rootless;
    Add(321, "shared", TL_STATE_COND, 0x7100);
    Runs(RunsBecause::kSharedObject);
    Add(322, "left", TL_STATE_COND, 0x7110);
    Runs(RunsBecause::kLeftTheWait);
    Add(323, "timed", TL_STATE_MUTEX, 0x7120);
    Runs(RunsBecause::kTimedWait);
    Add(324, "not-asleep", TL_STATE_SEM, 0x7130);
    Runs(RunsBecause::kNotAsleep);
    Add(325, "napper", TL_STATE_SLEEP);
    Runs(RunsBecause::kNothingToSay);
    Add(326, "orphan", TL_STATE_MUTEX, 0x7140, 9102).blocker_exited = 1;
    Reached(ReachedBy::kBlockerCanRun).blocker = 9102;
    Add(327, "finished", TL_STATE_FINISHED);
    Runs(RunsBecause::kNothingToSay);

    for (tl_snapshot* snapshot : {&leaks_, &dump_}) {
      snapshot->pid = 4242;
      snapshot->thread_count = static_cast<uint32_t>(threads_.size());
      snapshot->threads = threads_.data();
    }
    leaks_.trigger = TL_TRIGGER_EXIT;
    leaks_.kind = TL_REPORT_LEAKS;
    dump_.trigger = TL_TRIGGER_SIGNAL;
    dump_.kind = TL_REPORT_DUMP;
    for (tl_thread& thread : threads_) {
      SymbolizedThread symbolized;
      symbolized.raw = &thread;
      const std::string function = "Task" + std::to_string(thread.tid) + "()";
      symbolized.stack = Frames({Frame(0x555555556000u + static_cast<uintptr_t>(thread.tid),
                                       function.c_str(), "/srv/app/src/tasks.cc", thread.tid)});
      symbolized_.push_back(std::move(symbolized));
    }
  }

  ReportContext Context(const tl_snapshot& snapshot) {
    return MakeReportContext(snapshot, symbolized_, {}, &reach_);
  }

  std::vector<tl_thread> threads_;
  Reachability reach_;
  tl_snapshot leaks_{};
  tl_snapshot dump_{};
  std::vector<SymbolizedThread> symbolized_;
};

TEST_F(GoldenProofs, Text) {
  ExpectGolden("proofs.txt", RenderTextReport(Context(leaks_)) + RenderTextReport(Context(dump_)));
}

TEST_F(GoldenProofs, Json) {
  std::string json = std::regex_replace(RenderJsonReport(Context(leaks_)),
                                        std::regex("\"version\":\"[^\"]*\""), "\"version\":\"V\"");
  ExpectGolden("proofs.json", json);
}

TEST_F(GoldenProofs, Dot) {
  ExpectGolden("proofs.dot", RenderDot(leaks_, Context(leaks_).graph));
}

// A scan that failed, for every reason it can fail: the verdict history alone would make
// definite is only "possible", and the reason says why there is no proof.
TEST(GoldenScanFailures, Text) {
  using Code = ScanFailure::Code;
  using Heap = ScanFailure::Heap;
  using Problem = ScanFailure::HeapProblem;
  auto heap = [](Heap heap, uintptr_t start, Problem problem, uintptr_t at) {
    return ScanFailure{.code = Code::kBadHeap,
                       .heap = heap,
                       .heap_start = start,
                       .problem = problem,
                       .address = at};
  };
  const std::vector<ScanFailure> failures = {
      {.code = Code::kMapsUnreadable, .pid = 4242},
      {.code = Code::kForeignAllocator, .allocator = "libjemalloc.so.2"},
      {.code = Code::kThreadMoved, .tid = 4250},
      {.code = Code::kThreadRunning, .tid = 4250},
      {.code = Code::kTooMuchMemory, .megabytes = 4096},
      {.code = Code::kHeapTooBig, .megabytes = 4096},
      {.code = Code::kTooManyBlocks},
      heap(Heap::kMain, 0x555555559000, Problem::kUnevenEnd, 0x55555557aff8),
      heap(Heap::kArena, 0x7f00000008c0, Problem::kUnreadable, 0x7f0000021000),
      heap(Heap::kArena, 0x7f00000008c0, Problem::kTopNotAtEnd, 0x7f0000020ff0),
      heap(Heap::kMain, 0x555555559000, Problem::kZeroSizeChunk, 0x55555557af80),
      heap(Heap::kMain, 0x555555559000, Problem::kDamagedHeader, 0x555555560010),
      heap(Heap::kArena, 0x7f0004000030, Problem::kEndsBeforeTop, 0x7f0004021000),
      heap(Heap::kMain, 0x555555559000, Problem::kUnreadable, 0),
      {.code = Code::kTooManyFreeChunks},
      {.code = Code::kArenaUnreadable},
      {.code = Code::kNoGlibc},
      {.code = Code::kNoMemoryForBlockTable},
      {.code = Code::kBlocksOverlap, .address = 0x555555560020},
      {.code = Code::kNoMemoryForBuffers},
      {.code = Code::kNoMemoryForTables},
      {.code = Code::kUnfinished},
  };
  tl_thread thread{};
  thread.tid = 401;
  strcpy(thread.name, "waiter");
  thread.state = TL_STATE_COND;
  thread.object = 0x8000;
  thread.blocked_ns = -1;
  thread.syscall_number = -1;
  thread.creator_tid = -1;
  tl_snapshot snapshot{};
  snapshot.pid = 4242;
  snapshot.trigger = TL_TRIGGER_EXIT;
  snapshot.kind = TL_REPORT_LEAKS;
  snapshot.thread_count = 1;
  snapshot.threads = &thread;
  SymbolizedThread symbolized;
  symbolized.raw = &thread;
  symbolized.stack = Frames({Frame(0x555555556401, "Wait()", "/srv/app/src/tasks.cc", 401)});
  std::string text;
  for (const ScanFailure& failure : failures) {
    Reachability reach;
    reach.failure = failure;
    text += RenderTextReport(MakeReportContext(snapshot, {symbolized}, {}, &reach));
  }
  ExpectGolden("scan_failures.txt", text);
}

// The golden files themselves say what matters, so a test that would pass on any output (an
// empty render, a crash caught as "") cannot hide behind them.
TEST_F(GoldenReport, TheFilesHoldTheFactsTheyPin) {
  std::ifstream text_file(GoldenPath("report.txt"));
  std::stringstream text;
  text << text_file.rdbuf();
  for (const char* fact : {"Found one deadlock", "locker-a", "definitely leaked",
                           "SUMMARY:", "ServerTest.Starts", "read\\x0aer"}) {
    EXPECT_NE(text.str().find(fact), std::string::npos) << fact;
  }
  EXPECT_EQ(text.str().find("\"metrics\""), std::string::npos) << "suppressed";
}

}  // namespace
}  // namespace threadleak
