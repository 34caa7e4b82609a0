#include "preload/report/reachability/process_layout.h"

#include <elf.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>

namespace threadleak {
namespace {
constexpr uintptr_t kTcbSelfOffset = 16;
}  // namespace

bool InUntimedFutexWait(const TaskSyscall& kernel) {
  if (!kernel.known || kernel.running) return false;
  if (kernel.number == SYS_futex_waitv) return kernel.args[3] == 0;
  if (kernel.number != SYS_futex) return false;
  switch (kernel.args[1] & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI:
      return kernel.args[3] == 0;  // the timeout pointer
    default:
      return false;
  }
}

bool DeviceMapping(std::string_view path) {
  if (path.starts_with("/sys/") || path.starts_with("/dmabuf:")) return true;
  return path.starts_with("/dev/") && !path.starts_with("/dev/zero") &&
         !path.starts_with("/dev/shm/") && !path.starts_with("/dev/hugepages/");
}

int FindMapping(const std::vector<Mapping>& mappings, uintptr_t address) {
  auto it = std::upper_bound(mappings.begin(), mappings.end(), address,
                             [](uintptr_t a, const Mapping& m) { return a < m.start; });
  if (it == mappings.begin()) return -1;
  --it;
  return address < it->end ? static_cast<int>(it - mappings.begin()) : -1;
}

uintptr_t FindTcb(const TargetMemory& memory, uintptr_t start, uintptr_t end) {
  const uintptr_t from = end - std::min(end - start, kTcbSearch);
  std::vector<uint64_t> words((end - from) / 8);
  const size_t got = memory.ReadPrefix(from, words.data(), end - from) / 8;
  for (size_t i = 0; i + 2 < got; i += 8) {  // 64-byte aligned
    const uintptr_t at = from + i * 8;
    if (words[i] == at && words[i + kTcbSelfOffset / 8] == at) return at;
  }
  return 0;
}

AddressRange ReadStackBlock(const TargetMemory& memory, uintptr_t handle, pid_t tid) {
  if (handle == 0 || handle % 64 != 0 || tid <= 0) return {};
  // The descriptor's fields up to stackblock_size, in one read: the scan reads every thread's
  // (three reads each cost an exit report of 10,000 threads 20,000 more system calls).
  static_assert(kTcbStackBlockSizeOffset % 8 == 0 && kTcbTidOffset < kTcbStackBlockOffset &&
                kTcbSelfOffset < kTcbStackBlockOffset);
  uint64_t words[kTcbStackBlockSizeOffset / 8 + 1];
  if (!memory.Read(handle, words, sizeof words)) return {};
  int32_t recorded_tid = 0;
  memcpy(&recorded_tid, reinterpret_cast<const char*>(words) + kTcbTidOffset, sizeof recorded_tid);
  if (words[0] != handle || words[kTcbSelfOffset / 8] != handle || recorded_tid != tid) return {};
  const uintptr_t start = words[kTcbStackBlockOffset / 8];     // stackblock
  const uintptr_t size = words[kTcbStackBlockSizeOffset / 8];  // stackblock_size
  // The descriptor sits at the block's top (its static TLS and itself): inside it, with room.
  constexpr uintptr_t kMaxBlock = uintptr_t{1} << 40;
  if (start == 0 || size == 0 || size > kMaxBlock || handle < start || handle >= start + size) {
    return {};
  }
  return {start, start + size};
}

namespace {

// An ELF module as the loader mapped it: its path, load bias and program headers.
struct LoadedModule {
  std::string path;
  uintptr_t bias = 0;
  std::vector<Elf64_Phdr> segments;
};

std::vector<LoadedModule> ReadLoadedModules(const TargetMemory& memory,
                                            const std::vector<Mapping>& mappings) {
  std::vector<LoadedModule> out;
  for (const Mapping& m : mappings) {
    if (m.offset != 0 || m.anonymous() || !m.readable) continue;
    Elf64_Ehdr header;
    if (!memory.Read(m.start, &header) || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr) ||
        header.e_phnum == 0 || header.e_phnum > 256) {
      continue;
    }
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    if (!memory.Read(m.start + header.e_phoff, segments.data(),
                     sizeof(Elf64_Phdr) * segments.size())) {
      continue;
    }
    uintptr_t first = UINTPTR_MAX;
    for (const Elf64_Phdr& s : segments) {
      if (s.p_type != PT_LOAD) continue;
      first = std::min<uintptr_t>(first, s.p_vaddr & ~(kTargetPageSize - 1));
    }
    if (first == UINTPTR_MAX) continue;
    const uintptr_t bias = m.start - first;
    // Loaded, not merely mapped as a file (libelf maps ELF files rw-p to read them): the
    // file's code is mapped executable within the span of its segments.
    uintptr_t span_end = 0;
    for (const Elf64_Phdr& s : segments) {
      if (s.p_type == PT_LOAD)
        span_end = std::max<uintptr_t>(span_end, bias + s.p_vaddr + s.p_memsz);
    }
    const bool loaded = std::any_of(mappings.begin(), mappings.end(), [&](const Mapping& other) {
      return other.inode == m.inode && other.path == m.path && other.executable &&
             other.start >= m.start && other.start < span_end;
    });
    if (loaded) out.push_back({m.path, bias, std::move(segments)});
  }
  return out;
}

// The names in the module's DT_NEEDED entries, read from its dynamic section as loaded.
std::vector<std::string> NeededNames(const TargetMemory& memory, const LoadedModule& module) {
  std::vector<std::string> out;
  for (const Elf64_Phdr& s : module.segments) {
    if (s.p_type != PT_DYNAMIC || s.p_memsz == 0 || s.p_memsz > (1 << 20)) continue;
    std::vector<Elf64_Dyn> entries(s.p_memsz / sizeof(Elf64_Dyn));
    const size_t got = memory.ReadPrefix(module.bias + s.p_vaddr, entries.data(),
                                         entries.size() * sizeof(Elf64_Dyn)) /
                       sizeof(Elf64_Dyn);
    uintptr_t strtab = 0;
    std::vector<uint64_t> needed;
    for (size_t i = 0; i < got && entries[i].d_tag != DT_NULL; ++i) {
      if (entries[i].d_tag == DT_STRTAB) strtab = entries[i].d_un.d_ptr;
      if (entries[i].d_tag == DT_NEEDED) needed.push_back(entries[i].d_un.d_val);
    }
    // The loader relocates the dynamic section in place where it is writable; where it is not
    // (a read-only one), the address is still the file's.
    if (strtab != 0 && strtab < module.bias) strtab += module.bias;
    for (uint64_t offset : needed) {
      char name[256] = {};
      const size_t n = memory.ReadPrefix(strtab + offset, name, sizeof name - 1);
      if (n > 0) out.emplace_back(name, strnlen(name, n));
    }
  }
  return out;
}

}  // namespace

std::vector<ModuleData> ReadModuleData(const TargetMemory& memory,
                                       const std::vector<Mapping>& mappings) {
  std::vector<ModuleData> out;
  for (const LoadedModule& module : ReadLoadedModules(memory, mappings)) {
    for (const Elf64_Phdr& s : module.segments) {
      if (s.p_type != PT_LOAD || (s.p_flags & PF_W) == 0 || s.p_memsz == 0) continue;
      out.push_back({module.bias + s.p_vaddr, module.bias + s.p_vaddr + s.p_memsz, module.path});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ModuleData& a, const ModuleData& b) { return a.start < b.start; });
  return out;
}

std::string ModuleNeeding(const TargetMemory& memory, const std::vector<Mapping>& mappings,
                          const std::string& prefix, const std::string& except_prefix) {
  for (const LoadedModule& module : ReadLoadedModules(memory, mappings)) {
    const std::string base = module.path.substr(module.path.rfind('/') + 1);
    if (base.rfind(prefix, 0) == 0 || base.rfind(except_prefix, 0) == 0) continue;
    for (const std::string& name : NeededNames(memory, module)) {
      if (name.rfind(prefix, 0) == 0) return module.path;
    }
  }
  return "";
}

}  // namespace threadleak
