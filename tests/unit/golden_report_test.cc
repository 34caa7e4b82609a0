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
#include "preload/report/render/json_report.h"
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

tl_thread Thread(int32_t tid, const char* name, uint32_t state, uintptr_t object,
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
    threads_.push_back(Thread(101, "consumer", TL_STATE_COND, 0x5555555a0040, 2'500'000'000));
    tl_thread a = Thread(102, "locker-a", TL_STATE_MUTEX, 0x5555555a1000, 1'200'000'000);
    a.blocker_tid = a.blocker_tid_second_read = 103;
    tl_thread b = Thread(103, "locker-b", TL_STATE_MUTEX, 0x5555555a1040, 1'190'000'000);
    b.blocker_tid = b.blocker_tid_second_read = 102;
    threads_.push_back(a);
    threads_.push_back(b);
    tl_thread reader = Thread(104, "read\ner \"x\"", TL_STATE_IO, 0, -1);
    reader.syscall_number = 0;  // read
    threads_.push_back(reader);
    tl_thread done = Thread(105, "done", TL_STATE_FINISHED, 0, -1);
    done.stack = {};
    threads_.push_back(done);
    threads_.push_back(Thread(106, "metrics", TL_STATE_SLEEP, 0, 30'000'000));
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
