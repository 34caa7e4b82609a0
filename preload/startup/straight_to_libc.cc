#include "preload/startup/straight_to_libc.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/core/guard.h"

namespace threadleak {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr uint32_t kGlobalData = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr uint32_t kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr uint32_t kGlobalData = R_AARCH64_GLOB_DAT;
#else
#define THREADLEAK_NO_REBINDING 1
#endif

constexpr int kMaxHooks = 8;

// What one loaded object's program headers and dynamic section say about its GOT slots.
struct LoadedObject {
  uintptr_t base = 0;
  uintptr_t begin = UINTPTR_MAX;  // its loaded segments
  uintptr_t end = 0;
  uintptr_t read_only_begin = 0;  // the RELRO pages the loader made read-only after relocating
  uintptr_t read_only_end = 0;
  const ElfW(Sym) * symbols = nullptr;
  const char* names = nullptr;
  size_t names_size = 0;
  const ElfW(Rela) * plt = nullptr;  // DT_JMPREL, when its entries are Rela
  size_t plt_size = 0;
  const ElfW(Rela) * other = nullptr;  // DT_RELA
  size_t other_size = 0;
  size_t other_relative = 0;  // DT_RELACOUNT: the relative relocations DT_RELA begins with
  bool symbolic = false;      // DT_SYMBOLIC: its own definitions come before the global scope
};

struct Rebinding {
  const PassThroughHook* hooks;
  int count;
  // Whether a lazily bound slot of hooks[i] would be bound to the hook at its first call: the
  // global scope's first definition is the shim's.
  bool lazy_binding_finds_hook[kMaxHooks];
  uintptr_t page_size;
  int rewritten = 0;
};

// The loader adjusts most dynamic entries to run-time addresses in place; a read-only dynamic
// section (the vDSO's) keeps offsets from the load base.
uintptr_t RunTimeAddress(uintptr_t base, ElfW(Addr) value) {
  return value < base ? base + value : value;
}

bool ReadObject(const dl_phdr_info& info, uintptr_t page_size, LoadedObject* object) {
  object->base = info.dlpi_addr;
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info.dlpi_phdr[i];
    const uintptr_t start = info.dlpi_addr + header.p_vaddr;
    if (header.p_type == PT_LOAD) {
      if (start < object->begin) object->begin = start;
      if (start + header.p_memsz > object->end) object->end = start + header.p_memsz;
    } else if (header.p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(start);
    } else if (header.p_type == PT_GNU_RELRO) {
      // As the loader rounds them (_dl_protect_relro): a last partial page stays writable.
      object->read_only_begin = start & ~(page_size - 1);
      object->read_only_end = (start + header.p_memsz) & ~(page_size - 1);
    }
  }
  if (dynamic == nullptr) return false;
  const uintptr_t base = info.dlpi_addr;
  bool plt_is_rela = false;
  uintptr_t plt = 0;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    switch (entry->d_tag) {
      case DT_SYMTAB:
        object->symbols =
            reinterpret_cast<const ElfW(Sym)*>(RunTimeAddress(base, entry->d_un.d_ptr));
        break;
      case DT_STRTAB:
        object->names = reinterpret_cast<const char*>(RunTimeAddress(base, entry->d_un.d_ptr));
        break;
      case DT_STRSZ:
        object->names_size = entry->d_un.d_val;
        break;
      case DT_JMPREL:
        plt = RunTimeAddress(base, entry->d_un.d_ptr);
        break;
      case DT_PLTRELSZ:
        object->plt_size = entry->d_un.d_val / sizeof(ElfW(Rela));
        break;
      case DT_PLTREL:
        plt_is_rela = entry->d_un.d_val == DT_RELA;
        break;
      case DT_RELA:
        object->other =
            reinterpret_cast<const ElfW(Rela)*>(RunTimeAddress(base, entry->d_un.d_ptr));
        break;
      case DT_RELASZ:
        object->other_size = entry->d_un.d_val / sizeof(ElfW(Rela));
        break;
      case DT_RELACOUNT:
        object->other_relative = entry->d_un.d_val;
        break;
      case DT_SYMBOLIC:
        object->symbolic = true;
        break;
      case DT_FLAGS:
        object->symbolic |= (entry->d_un.d_val & DF_SYMBOLIC) != 0;
        break;
      default:
        break;
    }
  }
  if (plt_is_rela) object->plt = reinterpret_cast<const ElfW(Rela)*>(plt);
  return object->symbols != nullptr && object->names != nullptr;
}

// Writes `value` into `slot`, making its page writable for the write when the loader made it
// read-only. False when mprotect refuses (a sandbox): the slot keeps what it holds.
bool WriteSlot(const LoadedObject& object, uintptr_t page_size, uintptr_t* slot, uintptr_t value) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(slot);
  if (address < object.read_only_begin || address >= object.read_only_end) {
    __atomic_store_n(slot, value, __ATOMIC_RELAXED);
    return true;
  }
  void* page = reinterpret_cast<void*>(address & ~(page_size - 1));
  if (mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(slot, value, __ATOMIC_RELAXED);  // another thread may call through it now
  mprotect(page, page_size, PROT_READ);
  return true;
}

void RebindSlot(const LoadedObject& object, const ElfW(Rela) & relocation, uint32_t type,
                Rebinding* state) {
  const ElfW(Sym)& symbol = object.symbols[ELF64_R_SYM(relocation.r_info)];
  if (symbol.st_name >= object.names_size) return;
  const char* name = object.names + symbol.st_name;
  for (int i = 0; i < state->count; ++i) {
    const PassThroughHook& hook = state->hooks[i];
    if (name[0] != hook.name[0] || strcmp(name, hook.name) != 0) continue;
    if (hook.target == 0) return;  // libc lacks the function: nothing to bind to
    auto* slot = reinterpret_cast<uintptr_t*>(object.base + relocation.r_offset);
    const uintptr_t bound = __atomic_load_n(slot, __ATOMIC_RELAXED);
    // A lazily bound slot not yet called through points into the object's own PLT. An object
    // that defines the function itself may be bound to its own definition there: left alone.
    const bool unbound = type == kJumpSlot && bound >= object.begin && bound < object.end &&
                         symbol.st_shndx == SHN_UNDEF && !object.symbolic;
    if (bound == hook.hook || (unbound && state->lazy_binding_finds_hook[i])) {
      if (WriteSlot(object, state->page_size, slot, hook.target)) ++state->rewritten;
    }
    return;
  }
}

void RebindEach(const ElfW(Rela) * relocations, size_t count, const LoadedObject& object,
                Rebinding* state) {
  if (relocations == nullptr) return;
  // The type decides before anything else is read: most entries are data relocations.
  for (size_t i = 0; i < count; ++i) {
    const uint32_t type = ELF64_R_TYPE(relocations[i].r_info);
    if (type == kJumpSlot || type == kGlobalData) RebindSlot(object, relocations[i], type, state);
  }
}

int RebindObject(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* state = static_cast<Rebinding*>(data);
  LoadedObject object;
  if (!ReadObject(*info, state->page_size, &object)) return 0;
  RebindEach(object.plt, object.plt_size, object, state);
  if (object.other != nullptr && object.other_relative < object.other_size) {
    RebindEach(object.other + object.other_relative, object.other_size - object.other_relative,
               object, state);
  }
  return 0;
}

}  // namespace

int BindStraightToLibc(const PassThroughHook* hooks, int count) {
#ifdef THREADLEAK_NO_REBINDING
  (void)hooks;
  (void)count;
  return 0;
#else
  ErrnoKeeper keep_errno;
  Rebinding state{hooks,
                  count < kMaxHooks ? count : kMaxHooks,
                  {},
                  static_cast<uintptr_t>(sysconf(_SC_PAGESIZE))};
  // Looked up before the walk: dl_iterate_phdr holds a loader lock that dlsym must not follow.
  for (int i = 0; i < state.count; ++i) {
    state.lazy_binding_finds_hook[i] =
        hooks[i].target != 0 &&
        reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, hooks[i].name)) == hooks[i].hook;
  }
  dl_iterate_phdr(RebindObject, &state);
  return state.rewritten;
#endif
}

}  // namespace threadleak
