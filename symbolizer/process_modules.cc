#include "symbolizer/process_modules.h"

#include <link.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>

#include "symbolizer/build_id.h"

namespace threadleak::symbolizer_internal {
namespace {

struct Counters {
  unsigned long long adds = 0;
  unsigned long long subs = 0;
};

bool HasCounters(size_t size) {
  return size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(dl_phdr_info::dlpi_subs);
}

Counters ReadCounters() {
  Counters counters;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t size, void* data) {
        if (HasCounters(size)) {
          *static_cast<Counters*>(data) = {info->dlpi_adds, info->dlpi_subs};
        }
        return 1;  // the counters are the same in every entry
      },
      &counters);
  return counters;
}

struct RawModule {
  LoadedModule module;
  std::string loader_name;  // dlpi_name: "" for the program
};

int Collect(dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<RawModule>*>(data);
  RawModule raw;
  raw.module.bias = info->dlpi_addr;
  raw.loader_name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  bool any = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    const uintptr_t end = begin + ph.p_memsz;
    raw.module.start = any ? std::min(raw.module.start, begin) : begin;
    raw.module.end = any ? std::max(raw.module.end, end) : end;
    any = true;
  }
  if (!any) return 0;
  // The notes are part of the first PT_LOAD segment in every file ld makes.
  for (int i = 0; i < info->dlpi_phnum && raw.module.build_id.empty(); ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (begin < raw.module.start || begin + ph.p_memsz > raw.module.end) continue;
    raw.module.build_id = NoteBuildId(reinterpret_cast<const void*>(begin), ph.p_memsz);
  }
  out->push_back(std::move(raw));
  return 0;
}

// The program's path as it was started: the name execve() was given (AT_EXECFN), when it still
// names the same file, so that a program started through a symlink is named by the link
// (Debian's redis-server is a link to redis-check-rdb). Else /proc/self/exe (symlinks resolved),
// or, once main has called pthread_exit and the main thread is a zombie whose link cannot be
// read, this thread's.
std::string ProgramPath() {
  const char* exe_links[] = {"/proc/self/exe", "/proc/thread-self/exe"};
  struct stat exe;
  bool have_exe = false;
  for (const char* link : exe_links) {
    if (stat(link, &exe) == 0) {
      have_exe = true;
      break;
    }
  }
  const auto* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  if (have_exe && execfn != nullptr && execfn[0] != '\0') {
    std::string path = execfn;
    // A relative name is relative to the directory the program started in: taken if the current
    // one still leads to the same file.
    char cwd[4096];
    if (path.front() != '/' && getcwd(cwd, sizeof cwd) != nullptr) {
      path = std::string(cwd) + "/" + (path.starts_with("./") ? path.substr(2) : path);
    }
    struct stat named;
    if (path.front() == '/' && stat(path.c_str(), &named) == 0 && named.st_dev == exe.st_dev &&
        named.st_ino == exe.st_ino) {
      return path;
    }
  }
  char buffer[4096];
  for (const char* link : exe_links) {
    const ssize_t n = readlink(link, buffer, sizeof buffer - 1);
    if (n > 0) return std::string(buffer, static_cast<size_t>(n));
  }
  return std::string();
}

}  // namespace

bool ProcessModules::Refresh() {
  const Counters counters = ReadCounters();
  if (read_ && counters.adds == adds_ && counters.subs == subs_) return false;
  // Between reading the counters and the list something may load: then the next Refresh reads
  // the list again, never too rarely.
  adds_ = counters.adds;
  subs_ = counters.subs;
  read_ = true;

  std::vector<RawModule> raw;
  dl_iterate_phdr(Collect, &raw);
  const uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  modules_.clear();
  for (RawModule& entry : raw) {
    LoadedModule& module = entry.module;
    if (vdso != 0 && module.start <= vdso && vdso < module.end) {
      module.path = "[vdso]";
      module.has_file = false;
    } else if (entry.loader_name.empty()) {
      if (program_path_.empty()) program_path_ = ProgramPath();
      module.path = program_path_;
    } else if (entry.loader_name.front() == '/') {
      // The path the loader opened, symlinks kept: what the program asked for.
      module.path = entry.loader_name;
    } else {
      // A relative dlopen() path: relative to a directory that may have changed since.
      auto [it, inserted] = real_paths_.try_emplace(entry.loader_name);
      if (inserted) {
        std::unique_ptr<char, decltype(&std::free)> real(
            realpath(entry.loader_name.c_str(), nullptr), &std::free);
        it->second = real != nullptr ? real.get() : entry.loader_name;
      }
      module.path = it->second;
    }
    if (module.path.empty()) module.has_file = false;
    modules_.push_back(std::move(module));
  }
  std::sort(modules_.begin(), modules_.end(),
            [](const LoadedModule& a, const LoadedModule& b) { return a.start < b.start; });
  return true;
}

const LoadedModule* ProcessModules::Find(uintptr_t address) const {
  auto it =
      std::upper_bound(modules_.begin(), modules_.end(), address,
                       [](uintptr_t value, const LoadedModule& m) { return value < m.start; });
  if (it == modules_.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

}  // namespace threadleak::symbolizer_internal
