// How frames are written: the text lines (inline marks, runtime frames collapsed above the user's
// code, raw frames with their build-id) and the JSON keys threadleak-symbolize relies on.
#include "preload/report/render/frame_format.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "preload/report/symbolized_thread.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {
namespace {

SourceFrame Frame(const char* function, const char* file, int line, const char* module,
                  bool inlined = false) {
  SourceFrame frame;
  frame.pc = 0x1000;
  frame.function = function;
  frame.file = file;
  frame.line = line;
  frame.module = module;
  frame.module_offset = 0x234;
  frame.build_id = "abcd";
  frame.inlined = inlined;
  return frame;
}

constexpr char kLibc[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
constexpr char kLibstdcxx[] = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
constexpr char kProgram[] = "/srv/writer";

std::vector<SourceFrame> WaitingStack() {
  return {
      Frame("__futex_abstimed_wait_common64", "./nptl/futex-internal.c", 57, kLibc, true),
      Frame("__futex_abstimed_wait_common", "./nptl/futex-internal.c", 87, kLibc),
      Frame("std::condition_variable::wait(std::unique_lock<std::mutex>&)", "", 0, kLibstdcxx),
      Frame("Writer::Wait()", "/src/writer.cc", 12, kProgram, true),
      Frame("Writer::process()", "/src/writer.cc", 31, kProgram),
      Frame("main", "/src/main.cc", 5, kProgram),
  };
}

TEST(TextFrames, RuntimeFramesAboveTheUsersCodeAreCollapsed) {
  std::string text;
  AppendTextFrames(text, WaitingStack());
  EXPECT_EQ(text,
            "    ... 3 runtime frames (libc.so.6, libstdc++.so.6)\n"
            "    #3 Writer::Wait() at /src/writer.cc:12 (inlined)\n"
            "    #4 Writer::process() at /src/writer.cc:31\n"
            "    #5 main at /src/main.cc:5\n");
}

TEST(TextFrames, NothingIsCollapsedWithoutUserCodeBelow) {
  std::vector<SourceFrame> frames = WaitingStack();
  frames.resize(3);
  std::string text;
  AppendTextFrames(text, frames);
  EXPECT_EQ(text,
            "    #0 __futex_abstimed_wait_common64 at ./nptl/futex-internal.c:57 (inlined)\n"
            "    #1 __futex_abstimed_wait_common at ./nptl/futex-internal.c:87\n"
            "    #2 std::condition_variable::wait(std::unique_lock<std::mutex>&) "
            "(libstdc++.so.6+0x234)\n");
}

TEST(TextFrames, RawFramesShowModuleOffsetAndBuildId) {
  SourceFrame raw = Frame("", "", 0, "/usr/lib/libfoo.so");
  SourceFrame unknown;
  unknown.pc = 0x10;
  std::string text;
  AppendTextFrames(text, {raw, unknown});
  EXPECT_EQ(text,
            "    #0 0x1000 (libfoo.so+0x234) (BuildId: abcd)\n"
            "    #1 0x10\n");
}

TEST(TextFrames, SharedStacksRenderTheSame) {
  const Frames shared(WaitingStack());
  std::string once;
  std::string twice;
  AppendTextFrames(once, WaitingStack());
  AppendTextFrames(twice, shared);
  AppendTextFrames(twice, shared);
  EXPECT_EQ(twice, once + once);
  EXPECT_EQ(JsonFrames(shared), JsonFrames(WaitingStack()));
}

TEST(JsonFrames, KeysForOfflineSymbolizationAndReading) {
  std::vector<SourceFrame> frames = WaitingStack();
  frames[0].is_return_address = false;
  SourceFrame unknown;
  unknown.pc = 0x10;
  frames.push_back(unknown);
  const nlohmann::json json = nlohmann::json::parse(JsonFrames(frames));
  ASSERT_EQ(json.size(), frames.size());
  EXPECT_EQ(json[0]["inlined"], true);
  EXPECT_EQ(json[0]["interrupted"], true);
  EXPECT_EQ(json[0]["runtime"], true);
  EXPECT_EQ(json[0]["build_id"], "abcd");
  EXPECT_EQ(json[0]["offset"], "0x234");
  EXPECT_EQ(json[0]["pc"], "0x1000");
  EXPECT_FALSE(json[1].contains("inlined"));
  EXPECT_FALSE(json[1].contains("interrupted"));
  EXPECT_EQ(json[2]["file"], nullptr);
  EXPECT_EQ(json[2]["line"], nullptr);
  EXPECT_EQ(json[4]["function"], "Writer::process()");
  EXPECT_FALSE(json[4].contains("runtime"));
  const nlohmann::json& last = json[frames.size() - 1];
  EXPECT_EQ(last["function"], "??");
  EXPECT_EQ(last["module"], "??");
  EXPECT_FALSE(last.contains("offset"));
  EXPECT_FALSE(last.contains("build_id"));
}

TEST(RuntimeFrames, LibstdcxxWrappersInlinedIntoTheProgramAreRuntime) {
  EXPECT_TRUE(
      IsRuntimeFrame(Frame("__gthread_cond_wait", "/usr/include/gthr-posix.h", 1, kProgram)));
  EXPECT_TRUE(
      IsRuntimeFrame(Frame("void std::thread::_Invoker<x>::_M_invoke<0ul>()", "", 0, kProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("Writer::process()", "", 0, kProgram)));
  // The top user frame may be an inlined one.
  EXPECT_EQ(TopUserFrame(WaitingStack())->function, "Writer::Wait()");
}

TEST(RuntimeFrames, RustStandardLibraryIsRuntime) {
  constexpr char kRustProgram[] = "/srv/leak";
  // Rust's std, core and alloc are linked into the program: only the names tell them apart.
  EXPECT_TRUE(IsRuntimeFrame(Frame("std::sys::unix::futex::futex_wait", "", 0, kRustProgram)));
  EXPECT_TRUE(
      IsRuntimeFrame(Frame("<std::sync::mpsc::oneshot::Packet<i32>>::recv", "", 0, kRustProgram)));
  EXPECT_TRUE(IsRuntimeFrame(
      Frame("<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once", "", 0,
            kRustProgram)));
  EXPECT_TRUE(IsRuntimeFrame(
      Frame("core::ops::function::FnOnce::call_once{{vtable.shim}}", "", 0, kRustProgram)));
  EXPECT_TRUE(IsRuntimeFrame(Frame("__rust_begin_short_backtrace", "", 0, kRustProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("leak::Consumer<T>::run", "", 0, kRustProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("<leak::Consumer<i32>>::run", "", 0, kRustProgram)));
  // The program's own impl of a standard trait is the program's code.
  EXPECT_FALSE(
      IsRuntimeFrame(Frame("<leak::Job as core::ops::drop::Drop>::drop", "", 0, kRustProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("<&leak::Job as core::fmt::Debug>::fmt", "", 0, kRustProgram)));
}

TEST(RuntimeFrames, TheHeaderNamesTheRustProgramsOwnFunction) {
  constexpr char kRustProgram[] = "/srv/leak";
  const std::vector<SourceFrame> stack = {
      Frame("syscall", "", 0, kLibc),
      Frame("std::sys::unix::futex::futex_wait", "", 0, kRustProgram, true),
      Frame("<std::sync::mpsc::oneshot::Packet<i32>>::recv", "", 0, kRustProgram),
      Frame("<std::sync::mpsc::Receiver<i32>>::recv", "", 0, kRustProgram),
      Frame("<leak::Consumer<i32>>::run", "/src/leak.rs", 6, kRustProgram),
      Frame("leak::main::{closure#0}", "/src/leak.rs", 11, kRustProgram, true),
  };
  ASSERT_NE(TopUserFrame(stack), nullptr);
  EXPECT_EQ(TopUserFrame(stack)->function, "<leak::Consumer<i32>>::run");
}

TEST(RuntimeFrames, GoRuntimeAndCgoGlueAreRuntime) {
  constexpr char kGoProgram[] = "/srv/server";
  EXPECT_TRUE(IsRuntimeFrame(Frame("runtime.futex.abi0", "", 0, kGoProgram)));
  EXPECT_TRUE(IsRuntimeFrame(Frame("runtime.asmcgocall.abi0", "", 0, kGoProgram)));
  EXPECT_TRUE(IsRuntimeFrame(Frame("_cgo_try_pthread_create", "", 0, kGoProgram)));
  EXPECT_TRUE(IsRuntimeFrame(Frame("x_cgo_thread_start", "", 0, kGoProgram)));
  EXPECT_TRUE(IsRuntimeFrame(Frame("crosscall_amd64", "", 0, kGoProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("main.(*Server).serve", "", 0, kGoProgram)));
  EXPECT_FALSE(IsRuntimeFrame(Frame("StartLeak", "", 0, kGoProgram)));
}

}  // namespace
}  // namespace threadleak
