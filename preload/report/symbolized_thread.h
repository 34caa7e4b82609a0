// A thread of a snapshot with its stacks turned into source frames, and the small judgements a
// report makes about frames (which one is the user's code).
#ifndef THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_
#define THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_

#include <string_view>
#include <vector>

#include "preload/snapshot.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {

struct SymbolizedThread {
  const tl_thread* raw = nullptr;
  std::vector<SourceFrame> stack;     // where it is now, innermost first
  std::vector<SourceFrame> creation;  // where it was created, innermost first
};

std::vector<SourceFrame> SymbolizeStack(const tl_stack& stack, Symbolizer& symbolizer);

std::vector<SymbolizedThread> SymbolizeThreads(const tl_snapshot& snapshot, Symbolizer& symbolizer);

// True for frames of the C and C++ runtimes (libc, libstdc++, the loader, std:: templates
// instantiated in the program): the eye should land on the first frame that is not one.
bool IsRuntimeFrame(const SourceFrame& frame);

// The first frame of the program's own code, or null if there is none.
const SourceFrame* TopUserFrame(const std::vector<SourceFrame>& frames);

// The module's file name without its directory.
std::string_view ModuleBaseName(std::string_view module);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_
