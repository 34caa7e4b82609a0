#include "symbolizer/process_modules.h"

#include <dirent.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "preload/capture/process_memory.h"
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

// The program's path as it was started: the name execve() was given (AT_EXECFN, `execfn`),
// when it still names the same file, so that a program started through a symlink is named by
// the link (Debian's redis-server is a link to redis-check-rdb). Else its /proc exe link
// (symlinks resolved), or, once main has called pthread_exit and the main thread is a zombie
// whose link cannot be read, another thread's. `proc` is "/proc/self" or "/proc/PID"; `cwd` the
// process's working directory.
std::string ProgramPath(const std::string& proc, const std::string& execfn, const std::string& cwd,
                        const std::string& any_thread_exe) {
  const std::string exe_links[] = {proc + "/exe", any_thread_exe};
  struct stat exe;
  bool have_exe = false;
  for (const std::string& link : exe_links) {
    if (!link.empty() && stat(link.c_str(), &exe) == 0) {
      have_exe = true;
      break;
    }
  }
  if (have_exe && !execfn.empty()) {
    std::string path = execfn;
    // A relative name is relative to the directory the program started in: taken if the current
    // one still leads to the same file.
    if (path.front() != '/' && !cwd.empty()) {
      path = cwd + "/" + (path.starts_with("./") ? path.substr(2) : path);
    }
    struct stat named;
    if (path.front() == '/' && stat(path.c_str(), &named) == 0 && named.st_dev == exe.st_dev &&
        named.st_ino == exe.st_ino) {
      return path;
    }
  }
  char buffer[4096];
  for (const std::string& link : exe_links) {
    if (link.empty()) continue;
    const ssize_t n = readlink(link.c_str(), buffer, sizeof buffer - 1);
    if (n > 0) return std::string(buffer, static_cast<size_t>(n));
  }
  return std::string();
}

std::string ReadLink(const std::string& link) {
  char buffer[4096];
  const ssize_t n = readlink(link.c_str(), buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

std::string OwnProgramPath() {
  const auto* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  char cwd[4096];
  return ProgramPath("/proc/self", execfn != nullptr ? execfn : "",
                     getcwd(cwd, sizeof cwd) != nullptr ? cwd : "", "/proc/thread-self/exe");
}

// --- Another process's modules: its loader's own list (r_debug's link_map chain, the list
// dl_iterate_phdr walks), read with process_vm_readv ---

// A NUL-terminated string in the observed process, up to 4 KiB.
std::string ReadRemoteString(uintptr_t address) {
  std::string text;
  char chunk[256];
  while (address != 0 && text.size() < 4096) {
    // Up to the end of the page: a read that crosses into an unmapped page would fail whole.
    size_t room = 4096 - (address & 4095);
    ssize_t n = ReadProcessBytes(address, chunk, std::min(room, sizeof chunk));
    if (n <= 0) break;
    size_t length = strnlen(chunk, static_cast<size_t>(n));
    text.append(chunk, length);
    if (length < static_cast<size_t>(n)) break;
    address += static_cast<uintptr_t>(n);
  }
  return text;
}

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  uint64_t offset = 0;
  std::string device;  // "fd:01"
  uint64_t inode = 0;
  std::string path;
};

std::vector<Mapping> ReadMaps(const std::string& proc) {
  std::vector<Mapping> maps;
  std::ifstream in(proc + "/maps");
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[8], device[16];
    unsigned long long start, end, offset, inode;
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &offset,
               device, &inode, &path_at) < 6) {
      continue;
    }
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.device = device;
    m.inode = inode;
    if (path_at > 0 && static_cast<size_t>(path_at) <= line.size()) m.path = line.substr(path_at);
    maps.push_back(std::move(m));
  }
  return maps;
}

const Mapping* MappingAt(const std::vector<Mapping>& maps, uintptr_t address) {
  for (const Mapping& m : maps) {
    if (m.start <= address && address < m.end) return &m;
  }
  return nullptr;
}

// Where the ELF header of the object that maps `inside` lies: its file's mapping at offset 0.
uintptr_t ImageBase(const std::vector<Mapping>& maps, uintptr_t inside) {
  const Mapping* holder = MappingAt(maps, inside);
  if (holder == nullptr) return 0;
  if (holder->inode == 0) return holder->offset == 0 ? holder->start : 0;  // the vDSO
  for (const Mapping& m : maps) {
    if (m.inode == holder->inode && m.device == holder->device && m.offset == 0) return m.start;
  }
  return 0;
}

// The extents and build-id of the image whose header is at `base`, loaded with bias `bias`.
bool ReadRemoteImage(uintptr_t base, uintptr_t bias, LoadedModule* module) {
  ElfW(Ehdr) header;
  if (base == 0 || !ReadProcessMemory(base, &header) ||
      memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_phnum == 0 || header.e_phnum > 256 ||
      header.e_phentsize != sizeof(ElfW(Phdr))) {
    return false;
  }
  std::vector<ElfW(Phdr)> phdrs(header.e_phnum);
  const size_t bytes = sizeof(ElfW(Phdr)) * phdrs.size();
  if (ReadProcessBytes(base + header.e_phoff, phdrs.data(), bytes) != static_cast<ssize_t>(bytes))
    return false;
  bool any = false;
  for (const ElfW(Phdr) & ph : phdrs) {
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t begin = bias + ph.p_vaddr;
    const uintptr_t end = begin + ph.p_memsz;
    module->start = any ? std::min(module->start, begin) : begin;
    module->end = any ? std::max(module->end, end) : end;
    any = true;
  }
  if (!any) return false;
  module->bias = bias;
  for (const ElfW(Phdr) & ph : phdrs) {
    if (ph.p_type != PT_NOTE || ph.p_memsz == 0 || ph.p_memsz > (1u << 16)) continue;
    std::vector<char> notes(ph.p_memsz);
    if (ReadProcessBytes(bias + ph.p_vaddr, notes.data(), notes.size()) !=
        static_cast<ssize_t>(notes.size())) {
      continue;
    }
    module->build_id = NoteBuildId(notes.data(), notes.size());
    if (!module->build_id.empty()) break;
  }
  return true;
}

struct RemoteAuxv {
  uintptr_t phdr = 0;
  uintptr_t phnum = 0;
  uintptr_t vdso = 0;
  uintptr_t execfn = 0;
};

RemoteAuxv ReadAuxv(const std::string& proc) {
  RemoteAuxv auxv;
  std::ifstream in(proc + "/auxv", std::ios::binary);
  uint64_t pair[2];
  while (in.read(reinterpret_cast<char*>(pair), sizeof pair) && pair[0] != AT_NULL) {
    if (pair[0] == AT_PHDR) auxv.phdr = pair[1];
    if (pair[0] == AT_PHNUM) auxv.phnum = pair[1];
    if (pair[0] == AT_SYSINFO_EHDR) auxv.vdso = pair[1];
    if (pair[0] == AT_EXECFN) auxv.execfn = pair[1];
  }
  return auxv;
}

// The loader's r_debug, found through the program's DT_DEBUG entry (which the loader fills in).
uintptr_t FindRDebug(const RemoteAuxv& auxv) {
  if (auxv.phdr == 0 || auxv.phnum == 0 || auxv.phnum > 256) return 0;
  std::vector<ElfW(Phdr)> phdrs(auxv.phnum);
  const size_t bytes = sizeof(ElfW(Phdr)) * phdrs.size();
  if (ReadProcessBytes(auxv.phdr, phdrs.data(), bytes) != static_cast<ssize_t>(bytes)) return 0;
  uintptr_t bias = 0;
  for (const ElfW(Phdr) & ph : phdrs) {
    if (ph.p_type == PT_PHDR) bias = auxv.phdr - ph.p_vaddr;
  }
  for (const ElfW(Phdr) & ph : phdrs) {
    if (ph.p_type != PT_DYNAMIC) continue;
    const uintptr_t dynamic = bias + ph.p_vaddr;
    for (size_t i = 0; i < ph.p_memsz / sizeof(ElfW(Dyn)) && i < 1024; ++i) {
      ElfW(Dyn) entry;
      if (!ReadProcessMemory(dynamic + i * sizeof entry, &entry) || entry.d_tag == DT_NULL) break;
      if (entry.d_tag == DT_DEBUG) return entry.d_un.d_ptr;
    }
  }
  return 0;
}

}  // namespace

bool ProcessModules::Refresh() {
  if (TargetProcess() != 0) {
    if (read_) return false;  // the report of a process that is not this one: read once
    read_ = true;
    ReadOtherProcess(TargetProcess());
    return true;
  }
  const Counters counters = ReadCounters();
  if (read_ && counters.adds == adds_ && counters.subs == subs_) return false;
  // Between reading the counters and the list something may load: then the next Refresh reads
  // the list again, never too rarely.
  adds_ = counters.adds;
  subs_ = counters.subs;
  read_ = true;

  std::vector<RawModule> raw;
  dl_iterate_phdr(Collect, &raw);
  SetModules(
      std::move(raw), getauxval(AT_SYSINFO_EHDR), [] { return OwnProgramPath(); },
      [](const std::string& name) {
        std::unique_ptr<char, decltype(&std::free)> real(realpath(name.c_str(), nullptr),
                                                         &std::free);
        return real != nullptr ? std::string(real.get()) : name;
      });
  return true;
}

void ProcessModules::ReadOtherProcess(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  const RemoteAuxv auxv = ReadAuxv(proc);
  const std::vector<Mapping> maps = ReadMaps(proc);
  std::vector<RawModule> raw;
  std::map<std::string, std::string> maps_paths;  // loader name -> the file /proc shows
  const uintptr_t r_debug_address = FindRDebug(auxv);
  r_debug debug;
  if (r_debug_address != 0 && ReadProcessMemory(r_debug_address, &debug)) {
    uintptr_t next = reinterpret_cast<uintptr_t>(debug.r_map);
    for (int i = 0; next != 0 && i < 65536; ++i) {
      link_map entry;
      if (!ReadProcessMemory(next, &entry)) break;
      next = reinterpret_cast<uintptr_t>(entry.l_next);
      RawModule module;
      module.loader_name = ReadRemoteString(reinterpret_cast<uintptr_t>(entry.l_name));
      const uintptr_t dynamic = reinterpret_cast<uintptr_t>(entry.l_ld);
      if (!ReadRemoteImage(ImageBase(maps, dynamic), entry.l_addr, &module.module)) continue;
      if (const Mapping* file = MappingAt(maps, dynamic); file != nullptr) {
        maps_paths[module.loader_name] = file->path;
      }
      raw.push_back(std::move(module));
    }
  }
  std::string execfn = ReadRemoteString(auxv.execfn);
  std::string cwd = ReadLink(proc + "/cwd");
  // Another task's exe link, for a program whose main thread has exited (a zombie's link
  // cannot be read): any thread of the process will do.
  std::string any_thread_exe;
  if (DIR* tasks = opendir((proc + "/task").c_str()); tasks != nullptr) {
    while (dirent* entry = readdir(tasks)) {
      if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
      if (std::to_string(pid) == entry->d_name) continue;
      any_thread_exe = proc + "/task/" + entry->d_name + "/exe";
      break;
    }
    closedir(tasks);
  }
  SetModules(
      std::move(raw), auxv.vdso, [&] { return ProgramPath(proc, execfn, cwd, any_thread_exe); },
      [&](const std::string& name) {
        // A relative dlopen() path: the file /proc shows for it, else relative to its cwd.
        auto found = maps_paths.find(name);
        if (found != maps_paths.end() && !found->second.empty() && found->second.front() == '/')
          return found->second;
        return cwd.empty() ? name : cwd + "/" + name;
      });
}

void ProcessModules::SetModules(std::vector<RawModule> raw, uintptr_t vdso,
                                const std::function<std::string()>& program_path,
                                const std::function<std::string(const std::string&)>& real_path) {
  modules_.clear();
  for (RawModule& entry : raw) {
    LoadedModule& module = entry.module;
    if (vdso != 0 && module.start <= vdso && vdso < module.end) {
      module.path = "[vdso]";
      module.has_file = false;
    } else if (entry.loader_name.empty()) {
      if (program_path_.empty()) program_path_ = program_path();
      module.path = program_path_;
    } else if (entry.loader_name.front() == '/') {
      // The path the loader opened, symlinks kept: what the program asked for.
      module.path = entry.loader_name;
    } else {
      // A relative dlopen() path: relative to a directory that may have changed since.
      auto [it, inserted] = real_paths_.try_emplace(entry.loader_name);
      if (inserted) it->second = real_path(entry.loader_name);
      module.path = it->second;
    }
    if (module.path.empty()) module.has_file = false;
    modules_.push_back(std::move(module));
  }
  std::sort(modules_.begin(), modules_.end(),
            [](const LoadedModule& a, const LoadedModule& b) { return a.start < b.start; });
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
