#include "preload/report/symbolized_thread.h"

#include <array>

namespace threadleak {
namespace {

constexpr std::array<std::string_view, 7> kRuntimeModules = {
    "libc.so",     "libpthread.so", "ld-linux", "libstdc++.so",
    "libgcc_s.so", "libthreadleak", "libm.so"};

constexpr std::array<std::string_view, 3> kRuntimeNamespaces = {
    "std::", "__gnu_cxx::", "__cxxabiv1::"};

// The qualified name of a demangled function: without its return type ("void std::f<int>(int)"
// has one when it is a template instance) and without parameters.
std::string_view QualifiedName(std::string_view function) {
  size_t end = function.find('(');
  std::string_view head = function.substr(0, end);
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '<')
      ++depth;
    else if (head[i] == '>')
      --depth;
    else if (head[i] == ' ' && depth == 0)
      start = i + 1;
  }
  return head.substr(start);
}

}  // namespace

std::string_view ModuleBaseName(std::string_view module) {
  size_t slash = module.rfind('/');
  return slash == std::string_view::npos ? module : module.substr(slash + 1);
}

bool IsRuntimeFrame(const SourceFrame& frame) {
  std::string_view module = ModuleBaseName(frame.module);
  for (std::string_view runtime : kRuntimeModules) {
    if (module.starts_with(runtime)) return true;
  }
  std::string_view name = QualifiedName(frame.function);
  for (std::string_view prefix : kRuntimeNamespaces) {
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

const SourceFrame* TopUserFrame(const std::vector<SourceFrame>& frames) {
  for (const SourceFrame& frame : frames) {
    if (!frame.function.empty() && !IsRuntimeFrame(frame)) return &frame;
  }
  return nullptr;
}

std::vector<SourceFrame> SymbolizeStack(const tl_stack& stack, Symbolizer& symbolizer) {
  std::vector<SourceFrame> frames;
  frames.reserve(stack.depth);
  for (uint32_t i = 0; i < stack.depth && i < TL_MAX_FRAMES; ++i) {
    bool exact = i == 0 && stack.kind == TL_STACK_INTERRUPTED;
    frames.push_back(symbolizer.Symbolize(stack.pcs[i], /*is_return_address=*/!exact));
  }
  return frames;
}

std::vector<SymbolizedThread> SymbolizeThreads(const tl_snapshot& snapshot,
                                               Symbolizer& symbolizer) {
  std::vector<SymbolizedThread> threads;
  threads.reserve(snapshot.thread_count);
  for (uint32_t i = 0; i < snapshot.thread_count; ++i) {
    const tl_thread& raw = snapshot.threads[i];
    threads.push_back(
        {&raw, SymbolizeStack(raw.stack, symbolizer), SymbolizeStack(raw.creation, symbolizer)});
  }
  return threads;
}

}  // namespace threadleak
