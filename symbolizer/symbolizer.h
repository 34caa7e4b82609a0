// Turns program counters into functions, file:line and modules with elfutils' libdwfl, inline
// calls included (one frame per inlined call, innermost first, as `eu-addr2line -i` prints).
//
// Two kinds of address: those of this process as it is mapped now (Symbolize*, Locate), and
// those of a module known only by its file (SymbolizeInModule): a library dlclose()d since the
// pc was captured, or a module of another process or host (threadleak-symbolize). Either way a
// module's file is opened on its own, looked up by file address, and checked against the build-id
// of what was loaded: a frame is never attributed to whatever is mapped at its address now.
//
// Nothing is read until the first lookup. Each file's symbol table is sorted once, each
// compilation unit's inline ranges indexed once, each address resolved once.
//
// Thread-safe (one internal lock: libdwfl is not). Not async-signal-safe: allocates.
//
//   threadleak::Symbolizer symbolizer;
//   for (const SourceFrame& f : symbolizer.SymbolizeInline(pc, /*is_return_address=*/true))
//     printf("%s at %s:%d%s\n", f.function.c_str(), f.file.c_str(), f.line,
//            f.inlined ? " (inlined)" : "");
#ifndef THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_
#define THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symbolizer/source_frame.h"

namespace threadleak {

struct SymbolizerOptions {
  bool demangle = true;     // false: keep linkage names as the ELF and DWARF spell them
  bool debuginfod = false;  // true: missing debug info may be downloaded (DEBUGINFOD_URLS)
  // Where else to look for modules, for offline symbolization: files matched to a module by
  // build-id (or by path, or file name, when the module has none).
  std::vector<std::string> binaries;
  // Searched like /usr/lib/debug (after it): DIR/.build-id/xx/yyyy.debug, DIR/<module's dir>/
  // <debuglink>. A debug file found by build-id also stands in for a module missing on this host.
  std::vector<std::string> debug_dirs;
};

// A module known by its file: one dlclose()d since its pcs were captured, or one of another
// process.
struct ModuleIdentity {
  std::string path;      // as the process saw it
  std::string build_id;  // hex; empty when it has none (then the file is trusted by its path)
};

class Symbolizer {
 public:
  explicit Symbolizer(SymbolizerOptions options = {});
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // The frames at `pc` of this process, innermost first: one per inlined call, then the
  // function the code belongs to. Never empty. `is_return_address`: pc is a return address, so
  // the call is at pc - 1 (every frame but the interrupted one). Modules loaded or unloaded
  // since the last lookup are seen.
  std::vector<SourceFrame> SymbolizeInline(uintptr_t pc, bool is_return_address);

  // The last of SymbolizeInline: the function whose code is at pc, and its file:line there (the
  // call site of the outermost inlined call, if any).
  SourceFrame Symbolize(uintptr_t pc, bool is_return_address);

  // Module, build-id and offset only, from the loader's list: reads no file.
  SourceFrame Locate(uintptr_t pc, bool is_return_address);

  // The frames at `offset` (pc minus load bias) of `module`'s file, innermost first; `pc` is only
  // copied into them. Never empty; without a matching file, one frame with module, build-id and
  // offset and no name.
  std::vector<SourceFrame> SymbolizeInModule(const ModuleIdentity& module, uintptr_t pc,
                                             uintptr_t offset, bool is_return_address);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace threadleak

#endif  // THREADLEAK_SYMBOLIZER_SYMBOLIZER_H_
