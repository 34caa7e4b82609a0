#include "preload/capture/departed_modules.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include <algorithm>

#include "preload/core/spin_lock.h"

namespace threadleak {
namespace {

struct Departed {
  SpinLock lock;
  tl_module modules[kMaxDepartedModules] = {};
  size_t total = 0;  // ever remembered; the ring keeps the last kMaxDepartedModules
};

constinit Departed g_departed;

struct Search {
  uintptr_t bias;
  tl_module* out;
  bool found;
};

void ReadBuildId(const dl_phdr_info* info, const ElfW(Phdr) & note_segment, tl_module* out) {
  auto* cursor = reinterpret_cast<const char*>(info->dlpi_addr + note_segment.p_vaddr);
  const char* end = cursor + note_segment.p_memsz;
  while (cursor + sizeof(ElfW(Nhdr)) <= end) {
    auto* note = reinterpret_cast<const ElfW(Nhdr)*>(cursor);
    const char* name = cursor + sizeof(ElfW(Nhdr));
    const char* desc = name + ((note->n_namesz + 3) & ~3u);
    if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
      const size_t size = std::min<size_t>(note->n_descsz, TL_BUILD_ID_LEN);
      memcpy(out->build_id, desc, size);
      out->build_id_size = static_cast<uint32_t>(size);
      return;
    }
    cursor = desc + ((note->n_descsz + 3) & ~3u);
  }
}

int MatchModule(dl_phdr_info* info, size_t, void* opaque) {
  auto* search = static_cast<Search*>(opaque);
  if (info->dlpi_addr != search->bias) return 0;
  tl_module* out = search->out;
  out->start = UINTPTR_MAX;
  out->end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD) {
      uintptr_t start = info->dlpi_addr + segment.p_vaddr;
      if (start < out->start) out->start = start;
      if (start + segment.p_memsz > out->end) out->end = start + segment.p_memsz;
    } else if (segment.p_type == PT_NOTE && out->build_id_size == 0) {
      ReadBuildId(info, segment, out);
    }
  }
  search->found = out->end > out->start;
  return 1;
}

}  // namespace

bool DescribeLoadedModule(void* handle, tl_module* out) {
  *out = tl_module{};
  link_map* map = nullptr;
  if (handle == nullptr || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) {
    return false;
  }
  if (map->l_name == nullptr || map->l_name[0] == '\0') return false;  // the main program
  strncpy(out->path, map->l_name, TL_MODULE_PATH_LEN - 1);
  out->bias = map->l_addr;
  Search search{map->l_addr, out, false};
  dl_iterate_phdr(MatchModule, &search);
  return search.found;
}

void RememberIfDeparted(const tl_module& module) {
  tl_module probe{};
  Search search{module.bias, &probe, false};
  dl_iterate_phdr(MatchModule, &search);
  if (search.found && strcmp(probe.path, module.path) == 0) return;  // other handles keep it
  SpinLockGuard guard(g_departed.lock);
  g_departed.modules[g_departed.total++ % kMaxDepartedModules] = module;
}

size_t CopyDepartedModules(tl_module* out, size_t max) {
  SpinLockGuard guard(g_departed.lock);
  size_t kept = g_departed.total < kMaxDepartedModules ? g_departed.total : kMaxDepartedModules;
  size_t count = kept < max ? kept : max;
  size_t first = g_departed.total - kept;
  for (size_t i = 0; i < count; ++i) {
    out[i] = g_departed.modules[(first + i) % kMaxDepartedModules];
  }
  return count;
}

void ResetDepartedModulesAfterFork() {
  g_departed.lock.ResetAfterFork();
}

}  // namespace threadleak
