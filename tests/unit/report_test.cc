// The report writers, fed snapshots built by hand with addresses of functions in this file.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "preload/report/render/escape.h"
#include "preload/report/render/json_report.h"
#include "preload/report/render/phrases.h"
#include "preload/report/render/text_report.h"
#include "tests/unit/return_address.h"

namespace threadleak {
namespace {

using unit_tests::ReturnAddress;

struct Site {
  uintptr_t return_address;
  int line;
};

// Each returns the address just after its call to ReturnAddress(), and that call's line.
__attribute__((noinline)) Site WaitingFunction() {
  Site site = {ReturnAddress(), __LINE__};
  asm volatile("");
  return site;
}

__attribute__((noinline)) Site CreatingFunction() {
  Site site = {ReturnAddress(), __LINE__};
  asm volatile("");
  return site;
}

tl_thread MakeThread(int32_t tid, const char* name, uint32_t state) {
  tl_thread thread{};
  thread.tid = tid;
  strncpy(thread.name, name, TL_NAME_LEN - 1);
  thread.state = state;
  thread.blocked_ns = -1;
  thread.syscall_number = -1;
  thread.creator_tid = -1;
  return thread;
}

class ReportTest : public ::testing::Test {
 protected:
  ReportTest() {
    Site waiting = WaitingFunction();
    Site creating = CreatingFunction();
    waiting_line_ = waiting.line;
    creating_line_ = creating.line;
    tl_thread cond = MakeThread(4242, "worker", TL_STATE_COND);
    cond.object = 0x55d0c8a0;
    cond.blocked_ns = 2'010'000'000;
    cond.stack = {TL_STACK_RETURNS, 1, {waiting.return_address}};
    cond.creator_tid = 4240;
    strcpy(cond.creator_name, "main");
    cond.creation = {TL_STACK_RETURNS, 1, {creating.return_address}};
    threads_[0] = cond;
    tl_thread io = MakeThread(4243, "odd \"name\"\n\xff", TL_STATE_IO);
    io.syscall_number = 0;                         // read
    io.stack = {TL_STACK_INTERRUPTED, 1, {0x10}};  // nothing is mapped there
    threads_[1] = io;
    tl_thread finished = MakeThread(4244, "done", TL_STATE_FINISHED);
    finished.creator_tid = 4240;
    strcpy(finished.creator_name, "main");
    threads_[2] = finished;
    snapshot_ = {
        1234, TL_TRIGGER_EXIT, TL_REPORT_LEAKS, 3, threads_, 0, nullptr, 0, 0, 0, nullptr, 0, 0, 0};
    symbolized_ = SymbolizeThreads(snapshot_, symbolizer_);
  }

  Symbolizer symbolizer_;
  tl_thread threads_[3];
  tl_snapshot snapshot_;
  std::vector<SymbolizedThread> symbolized_;
  int waiting_line_ = 0;
  int creating_line_ = 0;
};

TEST_F(ReportTest, TextHasTheGoleakShape) {
  std::string text = RenderTextReport(snapshot_, symbolized_);
  EXPECT_EQ(text.rfind("threadleak: found 3 unexpected threads at exit\n", 0), 0u) << text;
  EXPECT_NE(text.find("[Thread 4242 \"worker\" in state cond (condition variable 0x55d0c8a0, "
                      "blocked 2.01 s), with threadleak::(anonymous namespace)::WaitingFunction() "
                      "on top of the stack:\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("    #0 threadleak::(anonymous namespace)::WaitingFunction() at "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("report_test.cc:" + std::to_string(waiting_line_) + "\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find(" created by threadleak::(anonymous namespace)::CreatingFunction() in "
                      "thread 4240 \"main\":\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      // Every byte of the name, escaped: the newline and the byte that is not UTF-8 as \xNN.
      text.find("[Thread 4243 \"odd \\\"name\\\"\\x0a\\xff\" in state io (in read):\n possibly "
                "leaked: it waits in read() for another thread or process\n    #0 0x10\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("created by a thread threadleak did not see"), std::string::npos) << text;
  EXPECT_NE(text.find("[Thread 4244 \"done\" in state finished: it finished but was never joined"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" created by thread 4240 \"main\":\n]"), std::string::npos) << text;
  EXPECT_NE(text.find(" definitely leaked: nothing else has ever signalled or waited on condition "
                      "variable 0x55d0c8a0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nSUMMARY: threadleak: 3 leaked threads (1 cond, 1 finished, 1 io): 2 "
                      "definitely leaked, 1 possibly leaked\n"),
            std::string::npos)
      << text;
}

TEST_F(ReportTest, JsonIsOneLineWithTheDocumentedFields) {
  std::string line = RenderJsonReport(snapshot_, symbolized_);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "JSON Lines: one object, one line";
  nlohmann::json report = nlohmann::json::parse(line);
  EXPECT_EQ(report["tool"], "threadleak");
  EXPECT_TRUE(report["version"].is_string());
  EXPECT_EQ(report["pid"], 1234);
  EXPECT_EQ(report["trigger"], "exit");
  EXPECT_EQ(report["leaks"], 3);
  ASSERT_EQ(report["threads"].size(), 3u);

  const nlohmann::json& cond = report["threads"][0];
  EXPECT_EQ(cond["tid"], 4242);
  EXPECT_EQ(cond["name"], "worker");
  EXPECT_EQ(cond["state"], "cond");
  EXPECT_EQ(cond["object"], "0x55d0c8a0");
  EXPECT_EQ(cond["blocked_ms"], 2010);
  EXPECT_EQ(cond["verdict"], "leaked");
  ASSERT_EQ(cond["stack"].size(), 1u);
  const nlohmann::json& frame = cond["stack"][0];
  EXPECT_EQ(frame["function"], "threadleak::(anonymous namespace)::WaitingFunction()");
  EXPECT_TRUE(frame["file"].get<std::string>().ends_with("report_test.cc"));
  EXPECT_EQ(frame["line"], waiting_line_);
  EXPECT_TRUE(frame["pc"].get<std::string>().starts_with("0x"));
  EXPECT_TRUE(frame["module"].get<std::string>().ends_with("unit_test"));
  EXPECT_EQ(cond["created_by"]["tid"], 4240);
  EXPECT_EQ(cond["created_by"]["name"], "main");
  EXPECT_EQ(cond["created_by"]["stack"][0]["function"],
            "threadleak::(anonymous namespace)::CreatingFunction()");
  EXPECT_EQ(cond["created_by"]["stack"][0]["line"], creating_line_);

  const nlohmann::json& io = report["threads"][1];
  EXPECT_EQ(io["name"], "odd \"name\"\n\xef\xbf\xbd");  // invalid UTF-8 replaced
  EXPECT_EQ(io["state"], "io");
  EXPECT_EQ(io["syscall"], "read");
  EXPECT_TRUE(io["object"].is_null());
  EXPECT_TRUE(io["blocked_ms"].is_null());
  EXPECT_TRUE(io["created_by"]["tid"].is_null());
  EXPECT_TRUE(io["created_by"]["name"].is_null());
  ASSERT_EQ(io["stack"].size(), 1u);
  EXPECT_EQ(io["stack"][0]["pc"], "0x10");
  EXPECT_EQ(io["stack"][0]["function"], "??");
  EXPECT_EQ(io["stack"][0]["module"], "??");
  EXPECT_TRUE(io["stack"][0]["file"].is_null());
  EXPECT_TRUE(io["stack"][0]["line"].is_null());

  EXPECT_EQ(report["threads"][2]["state"], "finished");
}

TEST(JsonString, EscapesControlCharactersAndQuotes) {
  EXPECT_EQ(JsonString("a\"b\\c\x01\t"), "\"a\\\"b\\\\c\\u0001\\t\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(JsonString("\xc3"), "\"\\ufffd\"");  // truncated sequence
  EXPECT_EQ(JsonString("\xed\xa0\x80").find("\\ufffd") != std::string::npos ||
                JsonString("\xed\xa0\x80") == "\"\xed\xa0\x80\"",
            true);
}

TEST(Escape, OneReadingOfUtf8ForEveryOutput) {
  // Well-formed: 2, 3 and 4 bytes. Not: an overlong '/', a surrogate, above U+10FFFF, a lone
  // continuation byte, a sequence cut short.
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x92\xa9", 0), 4u);
  for (std::string_view bad :
       {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xe2\x82"}) {
    EXPECT_EQ(Utf8SequenceLength(bad, 0), 0u) << bad.size();
  }
  // The same bytes in the three outputs: JSON replaces them, text and DOT keep each as \xNN.
  const std::string_view name = "a\"b\\c\n\xed\xa0\x80\xc3\xa9";
  EXPECT_EQ(JsonString(name), "\"a\\\"b\\\\c\\n\\ufffd\\ufffd\\ufffd\xc3\xa9\"");
  EXPECT_EQ(ReadableString(name), "\"a\\\"b\\\\c\\x0a\\xed\\xa0\\x80\xc3\xa9\"");
  char thread_name[TL_NAME_LEN] = "tab\there";
  EXPECT_EQ(QuotedName(thread_name), "\"tab\\x09here\"");
}

TEST(FormatDuration, MillisecondsBelowASecondThenSeconds) {
  EXPECT_EQ(FormatDuration(0), "0 ms");
  EXPECT_EQ(FormatDuration(45'600'000), "45 ms");
  EXPECT_EQ(FormatDuration(2'010'000'000), "2.01 s");
}

TEST(RuntimeFrames, TheUsersFrameIsTheFirstOutsideTheRuntimes) {
  std::vector<SourceFrame> frames(4);
  frames[0].function = "__futex_abstimed_wait_common";
  frames[0].module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  frames[1].function =
      "void std::condition_variable::wait<Pred>(std::unique_lock<std::mutex>&, Pred)";
  frames[1].module = "/tmp/prog";
  frames[2].function = "Writer::process()";
  frames[2].module = "/tmp/prog";
  frames[3].function = "main";
  frames[3].module = "/tmp/prog";
  ASSERT_NE(TopUserFrame(frames), nullptr);
  EXPECT_EQ(TopUserFrame(frames)->function, "Writer::process()");
  EXPECT_EQ(TopUserFrame({}), nullptr);
}

}  // namespace
}  // namespace threadleak
