// One ELF file and its debug information, opened with libdwfl in a Dwfl of its own rather than
// as part of a process. Addresses are the file's own (its p_vaddr space: a pc minus the load
// bias), so one object serves a library wherever it was loaded, a library dlclose()d since, and a
// binary from another host (threadleak-symbolize).
//
// Not thread-safe: the caller holds the symbolizer's lock. Allocates.
#ifndef THREADLEAK_SYMBOLIZER_MODULE_FILE_H_
#define THREADLEAK_SYMBOLIZER_MODULE_FILE_H_

#include <elfutils/libdwfl.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolizer/compile_units.h"
#include "symbolizer/demangle.h"
#include "symbolizer/dwarf_scopes.h"
#include "symbolizer/offline_debuginfo.h"
#include "symbolizer/source_frame.h"
#include "symbolizer/symbol_index.h"

namespace threadleak::symbolizer_internal {

class ModuleFile {
 public:
  // Opens the ELF file at `path`. Null if it cannot be read as ELF, or if `build_id` (hex) is
  // not empty and the file's is different: a stale file would give confidently wrong names.
  // `search` must outlive the object.
  static std::unique_ptr<ModuleFile> Open(const std::string& path, const std::string& build_id,
                                          const DebugSearch* search, bool demangle);
  ~ModuleFile();
  ModuleFile(const ModuleFile&) = delete;
  ModuleFile& operator=(const ModuleFile&) = delete;

  // What is at `address` (already minus 1 for a return address), innermost first: one frame per
  // inlined call around it (inlined = true; file:line where the next one calls it, or the
  // address's own line for the first), then the function whose code it is. Fills function,
  // file, line and inlined only; file:line only from a compilation unit whose ranges hold the
  // address (compile_units.h). Never empty: an unknown address gives one frame with no name.
  // Each address is resolved once.
  const std::vector<SourceFrame>& Lookup(uint64_t address);

  const std::string& build_id() const { return build_id_; }

 private:
  ModuleFile(const DebugSearch* search, bool demangle);
  std::vector<SourceFrame> Resolve(Dwarf_Addr address);

  const DebugSearch* search_;
  NameCache names_;
  Dwfl_Callbacks callbacks_;  // libdwfl keeps a pointer to it for the life of the Dwfl
  std::string debuginfo_path_;
  char* debuginfo_path_ptr_ = nullptr;
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  Dwarf_Addr bias_ = 0;  // libdwfl's address for a file address
  std::string build_id_;
  std::unique_ptr<SymbolIndex> symbols_;  // read on the first lookup
  std::unique_ptr<CompileUnits> units_;
  DwarfScopes scopes_;
  std::unordered_map<uint64_t, std::vector<SourceFrame>> cache_;
};

}  // namespace threadleak::symbolizer_internal

#endif  // THREADLEAK_SYMBOLIZER_MODULE_FILE_H_
