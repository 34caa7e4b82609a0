#include "symbolizer/module_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "symbolizer/build_id.h"

namespace threadleak::symbolizer_internal {
namespace {

// dwfl_report_elf opens the file itself; nothing else is ever looked for.
int NoElf(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) {
  return -1;
}

}  // namespace

ModuleFile::ModuleFile(const DebugSearch* search, bool demangle)
    : search_(search), names_(demangle) {}

ModuleFile::~ModuleFile() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

std::unique_ptr<ModuleFile> ModuleFile::Open(const std::string& path, const std::string& build_id,
                                             const DebugSearch* search, bool demangle) {
  std::unique_ptr<ModuleFile> file(new ModuleFile(search, demangle));
  file->debuginfo_path_ = search->DebuginfoPath();
  file->debuginfo_path_ptr_ = file->debuginfo_path_.data();
  file->callbacks_ = {
      .find_elf = NoElf,
      .find_debuginfo = FindDebuginfo,
      .section_address = nullptr,
      .debuginfo_path = &file->debuginfo_path_ptr_,
  };
  file->dwfl_ = dwfl_begin(&file->callbacks_);
  if (file->dwfl_ == nullptr) return nullptr;
  dwfl_report_begin(file->dwfl_);
  // Base 0 plus p_vaddr: libdwfl's addresses are then the file's own, for a PIE or a library
  // (ET_DYN) as for a fixed-address executable.
  file->module_ =
      dwfl_report_elf(file->dwfl_, path.c_str(), path.c_str(), -1, 0, /*add_p_vaddr=*/true);
  if (dwfl_report_end(file->dwfl_, nullptr, nullptr) != 0 || file->module_ == nullptr) {
    return nullptr;
  }
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(file->module_, &bits, &vaddr);
  if (len > 0) file->build_id_ = HexBuildId(bits, static_cast<size_t>(len));
  if (!build_id.empty() && file->build_id_ != build_id) return nullptr;
  if (dwfl_module_getelf(file->module_, &file->bias_) == nullptr) return nullptr;
  file->units_ = std::make_unique<CompileUnits>(file->module_);
  // The debuginfo callback reads its search settings from here.
  void** userdata = nullptr;
  dwfl_module_info(file->module_, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (userdata != nullptr) *userdata = const_cast<DebugSearch*>(search);
  return file;
}

const std::vector<SourceFrame>& ModuleFile::Lookup(uint64_t address) {
  auto it = cache_.find(address);
  if (it == cache_.end()) it = cache_.emplace(address, Resolve(address + bias_)).first;
  return it->second;
}

std::vector<SourceFrame> ModuleFile::Resolve(Dwarf_Addr address) {
  std::vector<DwarfScopes::Scope> chain;
  std::string file;
  int line = 0;
  // Only a unit whose ranges hold the address says anything about it (compile_units.h).
  Dwarf_Addr dwarf_bias = 0;
  bool from_libdwfl = false;
  if (Dwarf_Die* cu = units_->Find(address, &dwarf_bias, &from_libdwfl)) {
    chain = scopes_.Find(cu, address - dwarf_bias, names_);
    const char* name = nullptr;
    if (from_libdwfl) {
      if (Dwfl_Line* found = dwfl_module_getsrc(module_, address)) {
        name = dwfl_lineinfo(found, nullptr, &line, nullptr, nullptr, nullptr);
      }
    } else if (Dwarf_Line* found = dwarf_getsrc_die(cu, address - dwarf_bias)) {
      name = dwarf_linesrc(found, nullptr, nullptr);
      if (dwarf_lineno(found, &line) != 0) line = 0;
    }
    if (name != nullptr) {
      file = name;
    } else {
      line = 0;
    }
  }

  std::vector<SourceFrame> frames;
  size_t k = 0;
  for (; k < chain.size() && chain[k].inlined; ++k) {
    SourceFrame frame;
    frame.function = std::move(chain[k].function);
    frame.file = std::move(file);
    frame.line = line;
    frame.inlined = true;
    frames.push_back(std::move(frame));
    // The next frame out is at the call.
    file = std::move(chain[k].call_file);
    line = chain[k].call_line;
  }
  SourceFrame outer;
  outer.file = std::move(file);
  outer.line = line;
  if (symbols_ == nullptr) symbols_ = std::make_unique<SymbolIndex>(module_);
  const SymbolIndex::Hit symbol = symbols_->Find(address);
  // A symbol with a size that covers the address is the function. Without one, the nearest
  // sizeless symbol before the address could be anything (crtstuff's frame_dummy for a stripped
  // local function): the DWARF knows better, when there is DWARF.
  if (symbol.covers) {
    outer.function = names_.Get(symbol.name);
  } else if (k < chain.size()) {
    outer.function = std::move(chain[k].function);
  } else if (symbol.name != nullptr) {
    outer.function = names_.Get(symbol.name);
  }
  frames.push_back(std::move(outer));
  return frames;
}

}  // namespace threadleak::symbolizer_internal
