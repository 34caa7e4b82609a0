// The Symbolizer: this process's module list, and one ModuleFile (a Dwfl of its own) per ELF file
// met, behind one lock. Runs only when asked; nothing here is async-signal-safe.
#include "symbolizer/symbolizer.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>

#include "symbolizer/build_id.h"
#include "symbolizer/module_file.h"
#include "symbolizer/offline_debuginfo.h"
#include "symbolizer/process_modules.h"

namespace threadleak {
namespace {

using symbolizer_internal::BuildIdPath;
using symbolizer_internal::DebugSearch;
using symbolizer_internal::FileBuildId;
using symbolizer_internal::LoadedModule;
using symbolizer_internal::ModuleFile;
using symbolizer_internal::ProcessModules;

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string RealPath(const std::string& path) {
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string result(real);
  std::free(real);
  return result;
}

// A file the user named (--binary), read once.
struct Binary {
  std::string path;
  std::string real_path;
  std::string build_id;
};

SourceFrame BareFrame(uintptr_t pc, bool is_return_address) {
  SourceFrame frame;
  frame.pc = pc;
  frame.is_return_address = is_return_address;
  return frame;
}

}  // namespace

struct Symbolizer::Impl {
  explicit Impl(SymbolizerOptions options) : options(std::move(options)) {
    search.debuginfod = this->options.debuginfod;
    for (const std::string& dir : this->options.debug_dirs) search.roots.push_back(dir);
  }

  ModuleFile* FileFor(const ModuleIdentity& module);
  std::vector<std::string> Candidates(const ModuleIdentity& module);
  std::vector<SourceFrame> FromFile(const ModuleIdentity& module, uintptr_t pc, uintptr_t offset,
                                    bool is_return_address);
  std::vector<SourceFrame> Live(uintptr_t pc, bool is_return_address, bool read_files);

  const SymbolizerOptions options;
  DebugSearch search;  // the debuginfo callback reads it through each module's userdata
  std::mutex mutex;    // guards everything below; libdwfl is not thread-safe
  ProcessModules modules;
  // By (path, build-id) as the process saw the module; null when no file matched.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<ModuleFile>> files;
  std::vector<Binary> binaries;
  bool binaries_read = false;
};

// The files that may hold `module`, best first; each is checked against the build-id on opening.
std::vector<std::string> Symbolizer::Impl::Candidates(const ModuleIdentity& module) {
  if (!binaries_read) {
    binaries_read = true;
    for (const std::string& path : options.binaries) {
      binaries.push_back({path, RealPath(path), FileBuildId(path)});
    }
  }
  std::vector<std::string> paths;
  for (const Binary& binary : binaries) {
    const bool match =
        !module.build_id.empty()
            ? binary.build_id == module.build_id
            : binary.real_path == module.path || BaseName(binary.path) == BaseName(module.path);
    if (match) paths.push_back(binary.path);
  }
  if (!module.path.empty() && module.path.front() == '/') paths.push_back(module.path);
  // A debug file carries the symbol table and the DWARF: enough to name a module whose own file
  // is not on this host (or changed since it was loaded).
  for (const std::string& root : search.roots) {
    for (const char* suffix : {".debug", ""}) {
      if (std::string path = BuildIdPath(root, module.build_id, suffix); !path.empty()) {
        paths.push_back(std::move(path));
      }
    }
  }
  return paths;
}

ModuleFile* Symbolizer::Impl::FileFor(const ModuleIdentity& module) {
  auto [it, inserted] = files.try_emplace({module.path, module.build_id});
  if (inserted) {
    for (const std::string& path : Candidates(module)) {
      it->second = ModuleFile::Open(path, module.build_id, &search, options.demangle);
      if (it->second != nullptr) break;
    }
  }
  return it->second.get();
}

std::vector<SourceFrame> Symbolizer::Impl::FromFile(const ModuleIdentity& module, uintptr_t pc,
                                                    uintptr_t offset, bool is_return_address) {
  ModuleFile* file = FileFor(module);
  std::vector<SourceFrame> frames;
  if (file != nullptr) {
    frames = file->Lookup(is_return_address ? offset - 1 : offset);
  } else {
    frames.emplace_back();
  }
  const std::string& build_id =
      module.build_id.empty() && file != nullptr ? file->build_id() : module.build_id;
  for (SourceFrame& frame : frames) {
    frame.pc = pc;
    frame.module = module.path;
    frame.module_offset = offset;
    frame.build_id = build_id;
    frame.is_return_address = is_return_address;
  }
  return frames;
}

std::vector<SourceFrame> Symbolizer::Impl::Live(uintptr_t pc, bool is_return_address,
                                                bool read_files) {
  if (pc == 0) return {BareFrame(pc, is_return_address)};
  modules.Refresh();
  // A return address may be the first byte past its module (a call that ends it): the call
  // itself is at pc - 1.
  const LoadedModule* module = modules.Find(is_return_address ? pc - 1 : pc);
  if (module == nullptr) return {BareFrame(pc, is_return_address)};
  if (!read_files || !module->has_file) {
    SourceFrame frame = BareFrame(pc, is_return_address);
    frame.module = module->path;
    frame.module_offset = pc - module->bias;
    frame.build_id = module->build_id;
    return {frame};
  }
  return FromFile({module->path, module->build_id}, pc, pc - module->bias, is_return_address);
}

Symbolizer::Symbolizer(SymbolizerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Symbolizer::~Symbolizer() = default;

std::vector<SourceFrame> Symbolizer::SymbolizeInline(uintptr_t pc, bool is_return_address) {
  try {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->Live(pc, is_return_address, /*read_files=*/true);
  } catch (...) {
    // Out of memory, or a lock that cannot be taken: the caller prints the bare address.
    return {BareFrame(pc, is_return_address)};
  }
}

SourceFrame Symbolizer::Symbolize(uintptr_t pc, bool is_return_address) {
  std::vector<SourceFrame> frames = SymbolizeInline(pc, is_return_address);
  return std::move(frames.back());
}

SourceFrame Symbolizer::Locate(uintptr_t pc, bool is_return_address) {
  try {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return std::move(impl_->Live(pc, is_return_address, /*read_files=*/false).front());
  } catch (...) {
    return BareFrame(pc, is_return_address);
  }
}

std::vector<SourceFrame> Symbolizer::SymbolizeInModule(const ModuleIdentity& module, uintptr_t pc,
                                                       uintptr_t offset, bool is_return_address) {
  try {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->FromFile(module, pc, offset, is_return_address);
  } catch (...) {
    SourceFrame frame = BareFrame(pc, is_return_address);
    frame.module = module.path;
    frame.module_offset = offset;
    frame.build_id = module.build_id;
    return {frame};
  }
}

}  // namespace threadleak
