#include "preload/report/symbolized_thread.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace threadleak {
namespace {

// Runtime libraries, by file name: the C and C++ runtimes, the loader, threadleak itself; Rust's
// std when linked as a shared library (-C prefer-dynamic), gccgo's runtime; the sanitizers'
// runtimes, whose interceptors stand between a program built with them and libc.
constexpr std::array<std::string_view, 15> kRuntimeModules = {
    "libc.so",       "libpthread.so", "ld-linux",    "libstdc++.so", "libgcc_s.so",
    "libthreadleak", "libm.so",       "[vdso]",      "libstd-",      "libgo.so",
    "libasan.so",    "libtsan.so",    "libubsan.so", "liblsan.so",   "libclang_rt."};

// The standard libraries' namespaces: C++'s, and Rust's std, core and alloc, which are linked into
// every Rust program.
constexpr std::array<std::string_view, 6> kRuntimeNamespaces = {
    "std::", "__gnu_cxx::", "__cxxabiv1::", "core::", "alloc::", "panic_unwind::"};

// libstdc++'s wrappers of the pthread calls, inlined into the program's std:: templates; Rust's
// runtime entry points (__rust_begin_short_backtrace, __rust_alloc, ...); the Go runtime and its
// cgo glue, linked into every Go program ("runtime.futex", "runtime/cgo", "_cgo_…", "x_cgo_…",
// crosscall2).
constexpr std::array<std::string_view, 7> kRuntimeFunctionPrefixes = {
    "__gthread_", "__rust_", "runtime.", "runtime/", "_cgo_", "x_cgo_", "crosscall"};

// The type a Rust method belongs to, which its name starts with: "std::sync::mpsc::Receiver<T>>"
// for "<std::sync::mpsc::Receiver<T>>::recv", "alloc::boxed::Box<F,A> as core::…" for
// "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once". The program's own
// impl of a standard trait ("<leak::Job as core::ops::drop::Drop>::drop") is the program's.
std::string_view SelfType(std::string_view name) {
  if (!name.starts_with('<')) return name;
  name.remove_prefix(1);
  for (std::string_view pointer : {"&mut ", "&", "*const ", "*mut ", "dyn "}) {
    if (name.starts_with(pointer)) {
      name.remove_prefix(pointer.size());
      break;
    }
  }
  return name;
}

}  // namespace

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

namespace {

std::string HexBuildId(const tl_module& module) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  const uint32_t size = std::min<uint32_t>(module.build_id_size, TL_BUILD_ID_LEN);
  for (uint32_t i = 0; i < size; ++i) {
    hex += kDigits[module.build_id[i] >> 4];
    hex += kDigits[module.build_id[i] & 0xf];
  }
  return hex;
}

// The most recently departed module that held the call at `pc`.
const tl_module* DepartedAt(std::span<const tl_module> departed, uintptr_t pc,
                            bool is_return_address) {
  const uintptr_t address = is_return_address ? pc - 1 : pc;
  for (size_t i = departed.size(); i-- > 0;) {
    if (address >= departed[i].start && address < departed[i].end) return &departed[i];
  }
  return nullptr;
}

// The path as the loader opened it, like live modules' paths (symbolizer/process_modules.h):
// symlinks kept, a relative dlopen() path resolved.
std::string LoadedPath(const tl_module& module) {
  std::string path(module.path, strnlen(module.path, sizeof module.path));
  if (path.starts_with('/')) return path;
  std::unique_ptr<char, decltype(&std::free)> real(realpath(path.c_str(), nullptr), &std::free);
  return real != nullptr ? std::string(real.get()) : path;
}

std::vector<SourceFrame> FromDeparted(const tl_module& module, uintptr_t pc, bool is_return_address,
                                      Symbolizer& symbolizer, bool symbolize) {
  ModuleIdentity identity{LoadedPath(module), HexBuildId(module)};
  const uintptr_t offset = pc - module.bias;
  if (symbolize) return symbolizer.SymbolizeInModule(identity, pc, offset, is_return_address);
  SourceFrame frame;
  frame.pc = pc;
  frame.module = std::move(identity.path);
  frame.module_offset = offset;
  frame.build_id = std::move(identity.build_id);
  frame.is_return_address = is_return_address;
  return {std::move(frame)};
}

void StripPrefix(std::vector<SourceFrame>& frames, std::string_view prefix) {
  if (prefix.empty()) return;
  for (SourceFrame& frame : frames) {
    if (frame.file.size() > prefix.size() && frame.file.starts_with(prefix)) {
      frame.file.erase(0, prefix.size());
    }
  }
}

// Stacks already symbolized in this report, by their contents.
class StackMemo {
 public:
  StackMemo(const tl_snapshot& snapshot, Symbolizer& symbolizer, const FrameOptions& options)
      : symbolizer_(symbolizer), options_(options) {
    if (snapshot.departed_modules != nullptr) {
      departed_ = {snapshot.departed_modules, snapshot.departed_module_count};
    }
  }

  Frames Get(const tl_stack& stack, bool captured_earlier) {
    const uint32_t depth = std::min<uint32_t>(stack.depth, TL_MAX_FRAMES);
    std::string key(sizeof(uint32_t) * 2 + sizeof(uintptr_t) * depth, '\0');
    const uint32_t head[2] = {stack.kind, captured_earlier ? 1u : 0u};
    std::memcpy(key.data(), head, sizeof head);
    std::memcpy(key.data() + sizeof head, stack.pcs, sizeof(uintptr_t) * depth);
    auto [it, inserted] = memo_.try_emplace(std::move(key));
    if (inserted) {
      it->second =
          Frames(SymbolizeStack(stack, symbolizer_, options_, departed_, captured_earlier));
    }
    return it->second;
  }

 private:
  Symbolizer& symbolizer_;
  const FrameOptions& options_;
  std::span<const tl_module> departed_;
  std::unordered_map<std::string, Frames> memo_;
};

}  // namespace

Frames::Frames() : shared_(std::make_shared<const Shared>()) {}

Frames::Frames(std::vector<SourceFrame> frames)
    : shared_(std::make_shared<const Shared>(std::move(frames))) {}

std::string_view ModuleBaseName(std::string_view module) {
  size_t slash = module.rfind('/');
  return slash == std::string_view::npos ? module : module.substr(slash + 1);
}

bool IsRuntimeFrame(const SourceFrame& frame) {
  std::string_view module = ModuleBaseName(frame.module);
  for (std::string_view runtime : kRuntimeModules) {
    if (module.starts_with(runtime)) return true;
  }
  std::string_view name = SelfType(QualifiedName(frame.function));
  for (std::string_view prefix : kRuntimeNamespaces) {
    if (name.starts_with(prefix)) return true;
  }
  for (std::string_view prefix : kRuntimeFunctionPrefixes) {
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

std::vector<SourceFrame> SymbolizeStack(const tl_stack& stack, Symbolizer& symbolizer,
                                        const FrameOptions& options,
                                        std::span<const tl_module> departed,
                                        bool captured_earlier) {
  std::vector<SourceFrame> frames;
  frames.reserve(stack.depth);
  for (uint32_t i = 0; i < stack.depth && i < TL_MAX_FRAMES; ++i) {
    const uintptr_t pc = stack.pcs[i];
    const bool is_return_address = !(i == 0 && stack.kind == TL_STACK_INTERRUPTED);
    const tl_module* gone = DepartedAt(departed, pc, is_return_address);
    std::vector<SourceFrame> at_pc;
    // A stack captured earlier (a creation stack) may be from a module unloaded since; one
    // captured now is in what is mapped now, unless nothing is.
    if (gone != nullptr && captured_earlier) {
      at_pc = FromDeparted(*gone, pc, is_return_address, symbolizer, options.symbolize);
    } else {
      if (options.symbolize) {
        at_pc = symbolizer.SymbolizeInline(pc, is_return_address);
      } else {
        at_pc.push_back(symbolizer.Locate(pc, is_return_address));
      }
      if (gone != nullptr && at_pc.back().module.empty()) {
        at_pc = FromDeparted(*gone, pc, is_return_address, symbolizer, options.symbolize);
      }
    }
    for (SourceFrame& frame : at_pc) frames.push_back(std::move(frame));
  }
  StripPrefix(frames, options.strip_path_prefix);
  return frames;
}

std::vector<SymbolizedThread> SymbolizeThreads(const tl_snapshot& snapshot, Symbolizer& symbolizer,
                                               const FrameOptions& options) {
  StackMemo memo(snapshot, symbolizer, options);
  std::vector<SymbolizedThread> threads;
  threads.reserve(snapshot.thread_count);
  for (uint32_t i = 0; i < snapshot.thread_count; ++i) {
    const tl_thread& raw = snapshot.threads[i];
    threads.push_back({&raw, memo.Get(raw.stack, /*captured_earlier=*/false),
                       memo.Get(raw.creation, /*captured_earlier=*/true)});
  }
  return threads;
}

}  // namespace threadleak
