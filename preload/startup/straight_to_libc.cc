#include "preload/startup/straight_to_libc.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/core/guard.h"

namespace threadleak {

#if defined(__x86_64__)
namespace {

constexpr int kMaxHooks = 8;
constexpr int kMaxCodeSegments = 4;

uintptr_t PageSize() {
  return static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
}

struct Range {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool Holds(uintptr_t address, size_t size) const {
    return address >= begin && address <= end && end - address >= size;
  }
};

// What one loaded object's program headers and dynamic section say about its PLT slots.
struct LoadedObject {
  uintptr_t base = 0;
  Range code[kMaxCodeSegments];  // its executable segments, where a PLT stub can lie
  int code_count = 0;
  Range read_only;  // the RELRO pages the loader made read-only after relocating
  const ElfW(Sym) * symbols = nullptr;
  const char* names = nullptr;
  size_t names_size = 0;
  const ElfW(Rela) * plt = nullptr;  // DT_JMPREL
  size_t plt_count = 0;
  bool symbolic = false;  // DT_SYMBOLIC: its own definitions come before the global scope
  bool is_program = false;
  uintptr_t debug = 0;  // DT_DEBUG: where the loader put its r_debug (the program has one)
};

constexpr int kMaxSlots = 64;

// A slot found by the walk, rewritten after it: nothing but reading is done inside
// dl_iterate_phdr, which holds a loader lock.
struct FoundSlot {
  uintptr_t* slot;
  int hook;         // index in Rebinding::hooks
  Range read_only;  // its object's RELRO pages
};

struct Rebinding {
  const PassThroughHook* hooks = nullptr;
  int count = 0;
  // Whether the program's unbound slots may be bound now: not when the loader must keep them
  // unbound (LD_BIND_NOT; an auditor's namespace stops everything), nor when the global scope
  // would not bind them to the hook.
  bool bind_unbound = false;
  bool unbound_would_find_hook[kMaxHooks] = {};
  bool first_object = true;  // the program itself (dl_iterate_phdr lists it first)
  uintptr_t program_debug = 0;
  FoundSlot found[kMaxSlots];
  int found_count = 0;
};

bool ReadObject(const dl_phdr_info& info, uintptr_t page_size, LoadedObject* object) {
  const uintptr_t base = info.dlpi_addr;
  object->base = base;
  const ElfW(Dyn)* dynamic = nullptr;
  bool dynamic_adjusted = false;
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info.dlpi_phdr[i];
    const uintptr_t start = base + header.p_vaddr;
    // Executable and readable: a PLT stub is read (an execute-only segment is not).
    if (header.p_type == PT_LOAD && (header.p_flags & (PF_X | PF_R)) == (PF_X | PF_R) &&
        object->code_count < kMaxCodeSegments) {
      object->code[object->code_count++] = {start, start + header.p_memsz};
    } else if (header.p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(start);
      // The loader turns a writable dynamic section's addresses into run-time ones in place; a
      // read-only one (the vDSO's) keeps them relative to the load base.
      dynamic_adjusted = (header.p_flags & PF_W) != 0;
    } else if (header.p_type == PT_GNU_RELRO) {
      // As the loader rounds them (_dl_protect_relro): a last partial page stays writable.
      object->read_only = {start & ~(page_size - 1), (start + header.p_memsz) & ~(page_size - 1)};
    }
  }
  if (dynamic == nullptr) return false;
  auto at = [&](ElfW(Addr) value) { return dynamic_adjusted ? value : base + value; };
  bool plt_is_rela = false;
  uintptr_t plt = 0;
  size_t plt_bytes = 0;
  for (const ElfW(Dyn)* entry = dynamic; entry->d_tag != DT_NULL; ++entry) {
    switch (entry->d_tag) {
      case DT_SYMTAB:
        object->symbols = reinterpret_cast<const ElfW(Sym)*>(at(entry->d_un.d_ptr));
        break;
      case DT_STRTAB:
        object->names = reinterpret_cast<const char*>(at(entry->d_un.d_ptr));
        break;
      case DT_STRSZ:
        object->names_size = entry->d_un.d_val;
        break;
      case DT_JMPREL:
        plt = at(entry->d_un.d_ptr);
        break;
      case DT_PLTRELSZ:
        plt_bytes = entry->d_un.d_val;
        break;
      case DT_PLTREL:
        plt_is_rela = entry->d_un.d_val == DT_RELA;
        break;
      case DT_DEBUG:
        object->debug = entry->d_un.d_ptr;
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
  if (plt_is_rela && plt != 0) {
    object->plt = reinterpret_cast<const ElfW(Rela)*>(plt);
    object->plt_count = plt_bytes / sizeof(ElfW(Rela));
  }
  return object->symbols != nullptr && object->names != nullptr;
}

// Whether `value`, the slot of the object's `index`th PLT relocation, still points at that
// slot's own lazy stub: `push $index` (after an endbr64 in an IBT PLT), as the linker wrote it
// and the loader left it. Anything else — an address the slot was bound or hooked to — is not.
bool PointsAtOwnStub(const LoadedObject& object, uintptr_t value, size_t index) {
  constexpr unsigned char kEndbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
  constexpr unsigned char kPush = 0x68;
  for (int i = 0; i < object.code_count; ++i) {
    if (!object.code[i].Holds(value, sizeof(kEndbr64) + 5)) continue;
    const auto* code = reinterpret_cast<const unsigned char*>(value);
    if (memcmp(code, kEndbr64, sizeof(kEndbr64)) == 0) code += sizeof(kEndbr64);
    uint32_t pushed;
    memcpy(&pushed, code + 1, sizeof(pushed));
    return code[0] == kPush && pushed == index;
  }
  return false;
}

// Whether the page holding `slot` takes a write as it is: its present value written back by
// process_vm_writev, which refuses a read-only page (EFAULT) instead of faulting. Nothing
// changes either way.
bool SlotWritable(uintptr_t* slot, bool* known) {
  uintptr_t same = __atomic_load_n(slot, __ATOMIC_RELAXED);
  iovec local = {&same, sizeof(same)};
  iovec remote = {slot, sizeof(same)};
  const ssize_t written = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
  *known = written == sizeof(same) || errno == EFAULT;
  return written == sizeof(same);
}

// Writes `value` into `slot`. A slot in a page the loader made read-only gets the page writable
// for the write and read-only again; any other page that refuses the write (its protection
// changed by the program, or unknown where process_vm_writev is refused) keeps the slot as it
// is. False when nothing was written.
bool WriteSlot(const FoundSlot& found, uintptr_t page_size, uintptr_t value) {
  uintptr_t* slot = found.slot;
  const uintptr_t address = reinterpret_cast<uintptr_t>(slot);
  bool known = false;
  if (SlotWritable(slot, &known)) {
    __atomic_store_n(slot, value, __ATOMIC_RELAXED);  // another thread may call through it now
    return true;
  }
  if (!known || !found.read_only.Holds(address, sizeof(*slot))) return false;
  void* page = reinterpret_cast<void*>(address & ~(page_size - 1));
  if (mprotect(page, page_size, PROT_READ | PROT_WRITE) != 0) return false;
  __atomic_store_n(slot, value, __ATOMIC_RELAXED);
  mprotect(page, page_size, PROT_READ);
  return true;
}

void FindSlot(const LoadedObject& object, size_t index, Rebinding* state) {
  const ElfW(Rela)& relocation = object.plt[index];
  const ElfW(Sym)& symbol = object.symbols[ELF64_R_SYM(relocation.r_info)];
  if (symbol.st_name >= object.names_size) return;
  const char* name = object.names + symbol.st_name;
  for (int i = 0; i < state->count; ++i) {
    const PassThroughHook& hook = state->hooks[i];
    if (name[0] != hook.name[0] || strcmp(name, hook.name) != 0) continue;
    if (hook.target == 0 || state->found_count == kMaxSlots) return;
    auto* slot = reinterpret_cast<uintptr_t*>(object.base + relocation.r_offset);
    const uintptr_t bound = __atomic_load_n(slot, __ATOMIC_RELAXED);
    // Only the program's own unbound slots: its lazy binding looks in the global scope, where
    // the shim comes first. A library's could look elsewhere first (one opened with
    // RTLD_DEEPBIND by a constructor that ran before the shim's binds to its own dependencies),
    // and nothing public tells; its slots are rebound once bound to the hook. An object that
    // defines the function itself may bind the slot to its own definition.
    const bool unbound = object.is_program && state->bind_unbound &&
                         state->unbound_would_find_hook[i] && symbol.st_shndx == SHN_UNDEF &&
                         !object.symbolic && PointsAtOwnStub(object, bound, index);
    if (bound == hook.hook || unbound) {
      state->found[state->found_count++] = {slot, i, object.read_only};
    }
    return;
  }
}

int FindSlots(dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* state = static_cast<Rebinding*>(data);
  LoadedObject object;
  const bool readable = ReadObject(*info, PageSize(), &object);
  object.is_program = state->first_object;
  if (state->first_object) state->program_debug = object.debug;
  state->first_object = false;
  if (!readable || object.plt == nullptr || object.code_count == 0) return 0;
  for (size_t i = 0; i < object.plt_count; ++i) {
    // The type first: a symbol's name is read only for a PLT slot.
    if (ELF64_R_TYPE(object.plt[i].r_info) == R_X86_64_JUMP_SLOT) FindSlot(object, i, state);
  }
  return 0;
}

// Whether the loader may hold a namespace besides the program's: an auditor's (LD_AUDIT,
// DT_AUDIT or `ld.so --audit`, each loaded into one of its own) or a dlmopen()'s. glibc 2.35
// and later chain them from the loader's r_debug, which moves to version 2 with the second;
// before 2.35 nothing tells, and any may be there. The r_debug is the one the program's
// DT_DEBUG names: a program that refers to _r_debug has a copy of its own (a copy relocation),
// which is what a lookup finds; without DT_DEBUG, any namespace may be there.
bool OtherNamespaces(uintptr_t program_debug) {
  int major = 0;
  int minor = 0;
  const char* version = gnu_get_libc_version();
  while (*version >= '0' && *version <= '9') major = major * 10 + (*version++ - '0');
  if (*version == '.') ++version;
  while (*version >= '0' && *version <= '9') minor = minor * 10 + (*version++ - '0');
  if (major < 2 || (major == 2 && minor < 35)) return true;
  // Without DT_DEBUG (GNU ld always writes one) nothing tells: a lookup of _r_debug could find
  // the program's own copy.
  const auto* debug = reinterpret_cast<const r_debug_extended*>(program_debug);
  if (debug == nullptr) return true;
  return debug->base.r_version >= 2 && debug->r_next != nullptr;
}

}  // namespace

int BindStraightToLibc(const PassThroughHook* hooks, int count, int seccomp_mode) {
  ErrnoKeeper keep_errno;
  // Under a seccomp filter (inherited: the hooks note the program's own), or where that is not
  // known, nothing is rebound: a filter may kill the process for process_vm_writev or a
  // writable mprotect, which the program itself never makes.
  if (seccomp_mode != 0) return 0;
  Rebinding state;
  state.hooks = hooks;
  state.count = count < kMaxHooks ? count : kMaxHooks;
  const char* bind_not = getenv("LD_BIND_NOT");
  state.bind_unbound = bind_not == nullptr || bind_not[0] == '\0';
  // Looked up before the walk: dl_iterate_phdr holds a loader lock that dlsym must not follow.
  for (int i = 0; i < state.count; ++i) {
    state.unbound_would_find_hook[i] =
        reinterpret_cast<uintptr_t>(dlsym(RTLD_DEFAULT, hooks[i].name)) == hooks[i].hook;
  }
  dl_iterate_phdr(FindSlots, &state);
  // An auditor's (or a second namespace's) view of the program's calls stays the loader's own.
  if (OtherNamespaces(state.program_debug)) return 0;
  int rewritten = 0;
  for (int i = 0; i < state.found_count; ++i) {
    const FoundSlot& found = state.found[i];
    if (WriteSlot(found, PageSize(), hooks[found.hook].target)) ++rewritten;
  }
  return rewritten;
}

#else  // not x86-64: the hooks' jump stays

int BindStraightToLibc(const PassThroughHook*, int, int) {
  return 0;
}

#endif

}  // namespace threadleak
