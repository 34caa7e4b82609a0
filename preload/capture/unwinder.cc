#include "preload/capture/unwinder.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>

#include <atomic>
#include <cstring>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload/core/guard.h"
#include "preload/io/diagnostics.h"

namespace threadleak {
namespace {

// The libunwind entry points, by their real (macro-expanded) export names.
struct LibUnwind {
  int (*init_local2)(unw_cursor_t*, unw_context_t*, int);
  int (*step)(unw_cursor_t*);
  int (*get_reg)(unw_cursor_t*, unw_regnum_t, unw_word_t*);
  int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
  unw_addr_space_t* local_addr_space;
  int (*getcontext)(unw_context_t*);
  int (*init_local)(unw_cursor_t*, unw_context_t*);
};

constinit LibUnwind g_unwind = {};
constinit std::atomic<int> g_load_state{0};  // 0 not tried, 1 loaded, -1 unavailable
constinit uintptr_t g_tool_begin = 0;
constinit uintptr_t g_tool_end = 0;

int FindOwnModule(dl_phdr_info* info, size_t, void* data) {
  auto self = reinterpret_cast<uintptr_t>(data);
  uintptr_t begin = UINTPTR_MAX, end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (start < begin) begin = start;
    if (start + segment.p_memsz > end) end = start + segment.p_memsz;
  }
  if (self < begin || self >= end) return 0;
  g_tool_begin = begin;
  g_tool_end = end;
  return 1;
}

// libunwind's writable data, and the open count the loader keeps for it (struct link_map's
// l_direct_opencount), when threadleak loaded it first: see UnwinderDataIfOwned.
constexpr size_t kMaxUnwinderData = 2;
constinit tl_range g_unwinder_data[kMaxUnwinderData] = {};
constinit size_t g_unwinder_data_count = 0;
constinit const uint32_t* g_unwinder_open_count = nullptr;

int FindUnwinderData(dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_addr != *static_cast<const ElfW(Addr)*>(data)) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) == 0) continue;
    if (g_unwinder_data_count == kMaxUnwinderData) return 1;
    const uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    g_unwinder_data[g_unwinder_data_count++] = {start, start + segment.p_memsz};
  }
  return 1;
}

// Finds the loader's open count of `library` (just opened, by threadleak alone): the one 32-bit
// field of its link_map that a second dlopen raises from 1 to 2 and its dlclose lowers again.
// The field's place is glibc's own business; this finds it by experiment, on the running glibc,
// and finds nothing (the data then stays the program's) when the experiment is not clear-cut.
void FindUnwinderOwnership(void* library) {
  constexpr size_t kWords = 256;  // the link_map's first 1 KB (glibc's is larger)
  uint32_t before[kWords], during[kWords], after[kWords];
  memcpy(before, library, sizeof before);
  void* again = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (again == nullptr) return;
  memcpy(during, library, sizeof during);
  dlclose(again);
  memcpy(after, library, sizeof after);
  int found = -1;
  for (size_t i = 0; i < kWords; ++i) {
    if (before[i] != 1 || during[i] != 2 || after[i] != 1) continue;
    if (found >= 0) return;  // two candidates: no telling which
    found = static_cast<int>(i);
  }
  link_map* map = nullptr;
  if (found < 0 || dlinfo(library, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return;
  const ElfW(Addr) bias = map->l_addr;
  dl_iterate_phdr(FindUnwinderData, const_cast<ElfW(Addr)*>(&bias));
  if (g_unwinder_data_count > 0) {
    g_unwinder_open_count = static_cast<const uint32_t*>(library) + found;
  }
}

template <typename Fn>
bool Resolve(void* library, const char* name, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(library, name));
  return *out != nullptr;
}

}  // namespace

bool LoadUnwinder() {
  int state = g_load_state.load(std::memory_order_acquire);
  if (state != 0) return state > 0;
  ToolScope scope;
  dl_iterate_phdr(FindOwnModule, reinterpret_cast<void*>(&LoadUnwinder));
  // Loaded before (linked by the program, or preloaded): its data is the program's as well.
  void* loaded_before = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (loaded_before != nullptr) dlclose(loaded_before);
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  bool ok = library != nullptr &&
            Resolve(library, "_ULx86_64_init_local2", &g_unwind.init_local2) &&
            Resolve(library, "_ULx86_64_step", &g_unwind.step) &&
            Resolve(library, "_ULx86_64_get_reg", &g_unwind.get_reg) &&
            Resolve(library, "_ULx86_64_set_caching_policy", &g_unwind.set_caching_policy) &&
            Resolve(library, "_ULx86_64_local_addr_space", &g_unwind.local_addr_space) &&
            Resolve(library, "_Ux86_64_getcontext", &g_unwind.getcontext) &&
            Resolve(library, "_ULx86_64_init_local", &g_unwind.init_local);
  // No caching: libunwind's global cache holds a lock across dl_iterate_phdr, which waits for
  // the loader's lock. A thread holding that one (in dlopen, or a dl_iterate_phdr callback) and
  // interrupted for a sample would wait in its handler for the cache lock, held by another
  // handler that waits for the loader: the whole process hangs, every signal blocked. (The
  // per-thread cache would allocate thread-local storage from a signal handler.)
  if (ok) {
    if (loaded_before == nullptr) FindUnwinderOwnership(library);
    g_unwind.set_caching_policy(*g_unwind.local_addr_space, UNW_CACHE_NONE);
  } else {
    WriteDiagnosticLine(
        "threadleak: warning: libunwind.so.8 could not be loaded; creation stacks fall back to "
        "glibc backtrace() and blocked stacks show only the current pc");
  }
  g_load_state.store(ok ? 1 : -1, std::memory_order_release);
  return ok;
}

size_t UnwinderDataIfOwned(tl_range* out, size_t max) {
  if (g_unwinder_open_count == nullptr ||
      __atomic_load_n(g_unwinder_open_count, __ATOMIC_RELAXED) != 1) {
    return 0;
  }
  size_t count = 0;
  for (; count < g_unwinder_data_count && count < max; ++count) out[count] = g_unwinder_data[count];
  return count;
}

size_t CaptureCurrentFrames(uintptr_t* pcs, uintptr_t* sps, size_t max) {
  if (max == 0) return 0;
  ToolScope scope;
  if (g_load_state.load(std::memory_order_acquire) <= 0) {
    int depth = backtrace(reinterpret_cast<void**>(pcs), static_cast<int>(max));
    if (depth <= 0) return 0;
    for (int i = 0; i < depth; ++i) sps[i] = 0;
    return static_cast<size_t>(depth);
  }
  // unw_backtrace would walk the same way (without libunwind's cache its fast trace gives up and
  // it steps frame by frame), but keeps no stack pointers.
  unw_context_t context;
  unw_cursor_t cursor;
  if (g_unwind.getcontext(&context) < 0 || g_unwind.init_local(&cursor, &context) < 0) return 0;
  size_t depth = 0;
  do {
    unw_word_t ip = 0, sp = 0;
    if (g_unwind.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    if (g_unwind.get_reg(&cursor, UNW_REG_SP, &sp) < 0) sp = 0;
    pcs[depth] = static_cast<uintptr_t>(ip);
    sps[depth] = static_cast<uintptr_t>(sp);
    ++depth;
  } while (depth < max && g_unwind.step(&cursor) > 0);
  return depth;
}

size_t CaptureInterruptedStack(ucontext_t* context, uintptr_t* pcs, size_t max) {
  if (max == 0) return 0;
  if (g_load_state.load(std::memory_order_acquire) <= 0) {
    pcs[0] = static_cast<uintptr_t>(context->uc_mcontext.gregs[REG_RIP]);
    return 1;
  }
  // On x86-64 unw_context_t is a ucontext_t, and UNW_INIT_SIGNAL_FRAME starts the walk at the
  // interrupted instruction instead of inside this handler.
  unw_cursor_t cursor;
  if (g_unwind.init_local2(&cursor, reinterpret_cast<unw_context_t*>(context),
                           UNW_INIT_SIGNAL_FRAME) < 0) {
    return 0;
  }
  size_t depth = 0;
  do {
    unw_word_t ip = 0;
    if (g_unwind.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
    pcs[depth++] = static_cast<uintptr_t>(ip);
  } while (depth < max && g_unwind.step(&cursor) > 0);
  return depth;
}

bool IsToolAddress(uintptr_t pc) {
  return pc >= g_tool_begin && pc < g_tool_end;
}

size_t DropToolFrames(const uintptr_t* pcs, size_t count, uintptr_t* out, size_t max) {
  size_t kept = 0;
  for (size_t i = 0; i < count && kept < max; ++i) {
    if (!IsToolAddress(pcs[i])) out[kept++] = pcs[i];
  }
  return kept;
}

void DropToolFrames(tl_stack* stack) {
  if (stack->depth == 0) return;
  bool first_dropped = IsToolAddress(stack->pcs[0]);
  stack->depth =
      static_cast<uint32_t>(DropToolFrames(stack->pcs, stack->depth, stack->pcs, TL_MAX_FRAMES));
  if (stack->depth == 0) {
    stack->kind = TL_STACK_NONE;
  } else if (first_dropped && stack->kind == TL_STACK_INTERRUPTED) {
    stack->kind = TL_STACK_RETURNS;
  }
}

}  // namespace threadleak
