// A thread of a snapshot with its stacks turned into source frames, and the small judgements a
// report makes about frames (which one is the user's code).
//
// Stacks are symbolized once per distinct stack in a report: ten thousand threads parked in the
// same three places cost three stacks, and share their frames.
#ifndef THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_
#define THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preload/core/snapshot.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {

// An immutable stack of frames, innermost first, shared between the threads that have it. Reads
// like a const std::vector<SourceFrame>, and converts to one. Its text and JSON renderings are
// kept with it once made (frame_format.h), so a stack ten thousand threads share is written once.
// Not thread-safe: one report renders from one thread.
class Frames {
 public:
  Frames();
  explicit Frames(std::vector<SourceFrame> frames);

  const std::vector<SourceFrame>& get() const { return shared_->frames; }
  operator const std::vector<SourceFrame>&() const { return shared_->frames; }  // NOLINT
  bool empty() const { return shared_->frames.empty(); }
  size_t size() const { return shared_->frames.size(); }
  const SourceFrame& operator[](size_t i) const { return shared_->frames[i]; }
  std::vector<SourceFrame>::const_iterator begin() const { return shared_->frames.begin(); }
  std::vector<SourceFrame>::const_iterator end() const { return shared_->frames.end(); }

  // Renderings made once: `render` runs the first time only.
  template <typename Render>
  const std::string& Text(Render render) const {
    return Cached(shared_->text, shared_->has_text, render);
  }
  template <typename Render>
  const std::string& Json(Render render) const {
    return Cached(shared_->json, shared_->has_json, render);
  }

 private:
  struct Shared {
    Shared() = default;
    explicit Shared(std::vector<SourceFrame> f) : frames(std::move(f)) {}
    std::vector<SourceFrame> frames;
    mutable std::string text;
    mutable std::string json;
    mutable bool has_text = false;
    mutable bool has_json = false;
  };
  template <typename Render>
  const std::string& Cached(std::string& slot, bool& has, Render render) const {
    if (!has) {
      slot = render(shared_->frames);
      has = true;
    }
    return slot;
  }

  std::shared_ptr<const Shared> shared_;
};

struct SymbolizedThread {
  const tl_thread* raw = nullptr;
  Frames stack;     // where it is now, innermost first
  Frames creation;  // where it was created, innermost first
};

// How stacks become frames (tl_report_config's symbolization options).
struct FrameOptions {
  // false: raw frames — module, build-id and offset, no names — for threadleak-symbolize.
  bool symbolize = true;
  // Removed from the start of source file paths.
  std::string strip_path_prefix;
};

// One frame per pc, or more where calls were inlined. A pc inside a module dlclose()d since
// (`departed`, most recent last) is named from that module's file when it is a creation stack
// (captured earlier), or when nothing is mapped there now; never from whatever is mapped there now.
std::vector<SourceFrame> SymbolizeStack(const tl_stack& stack, Symbolizer& symbolizer,
                                        const FrameOptions& options = {},
                                        std::span<const tl_module> departed = {},
                                        bool captured_earlier = false);

std::vector<SymbolizedThread> SymbolizeThreads(const tl_snapshot& snapshot, Symbolizer& symbolizer,
                                               const FrameOptions& options = {});

// True for frames of the language runtimes and of threadleak itself: libc, libstdc++, the loader,
// std:: templates instantiated or inlined in the program; Rust's std, core and alloc (methods of
// their types too, "<std::sync::mpsc::Receiver<T>>::recv"); the Go runtime and its cgo glue. The
// eye, and the report's header, should land on the first frame that is not one.
bool IsRuntimeFrame(const SourceFrame& frame);

// The first frame of the program's own code (an inlined one included), or null if there is none.
const SourceFrame* TopUserFrame(const std::vector<SourceFrame>& frames);

// The qualified name of a demangled function: without its return type ("void std::f<int>(int)"
// has one when it is a template instance) and without parameters.
std::string_view QualifiedName(std::string_view function);

// The module's file name without its directory.
std::string_view ModuleBaseName(std::string_view module);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_SYMBOLIZED_THREAD_H_
