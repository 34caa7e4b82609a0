// The Symbolizer: one libdwfl session over the process's modules, behind one lock, with a cache
// of every answer. Runs only when a report is made; nothing here is async-signal-safe.
#include "symbolizer/symbolizer.h"

#include <elfutils/libdwfl.h>
#include <link.h>
#include <unistd.h>

#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "symbolizer/demangle.h"
#include "symbolizer/dwarf_functions.h"
#include "symbolizer/offline_debuginfo.h"

namespace threadleak {
namespace {

using symbolizer_internal::Demangle;
using symbolizer_internal::DwarfFunctions;
using symbolizer_internal::FindDebuginfoOffline;

// libdwfl keeps a pointer to the callbacks for the life of the Dwfl.
const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    // Not dwfl_standard_find_debuginfo: it falls back on debuginfod (see offline_debuginfo.h).
    .find_debuginfo = FindDebuginfoOffline,
    .section_address = nullptr,
    .debuginfo_path = nullptr,
};

// How many objects the dynamic loader has loaded so far in this process (glibc's dlpi_adds):
// when it has not moved since the last report of the modules, an unknown address is not in a
// newly dlopened library, and reading /proc/self/maps again would find nothing new.
unsigned long long LoaderAdds() {
  unsigned long long adds = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t size, void* data) {
        if (size >= offsetof(dl_phdr_info, dlpi_adds) + sizeof(info->dlpi_adds)) {
          *static_cast<unsigned long long*>(data) = info->dlpi_adds;
        }
        return 1;  // the counters are the same in every entry
      },
      &adds);
  return adds;
}

struct CacheKey {
  uintptr_t pc;
  bool is_return_address;
  bool operator==(const CacheKey&) const = default;
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& key) const {
    return std::hash<uintptr_t>()(key.pc) ^ static_cast<size_t>(key.is_return_address);
  }
};

}  // namespace

struct Symbolizer::Impl {
  explicit Impl(pid_t requested_pid) : requested_pid(requested_pid) {}
  ~Impl() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }

  bool EnsureReported();
  bool ReportAgain();
  Dwfl_Module* ModuleAt(Dwarf_Addr addr) const;
  SourceFrame Resolve(uintptr_t pc, bool is_return_address);

  const pid_t requested_pid;  // 0: this process, whatever its pid is when set-up happens
  std::mutex mutex;           // guards everything below; libdwfl is not thread-safe
  Dwfl* dwfl = nullptr;
  bool setup_failed = false;
  pid_t pid = 0;
  bool is_self = false;
  unsigned long long reported_adds = 0;
  DwarfFunctions dwarf_functions;
  std::unordered_map<CacheKey, SourceFrame, CacheKeyHash> cache;
};

// Lazily, so that merely creating a Symbolizer (at start-up) costs nothing.
bool Symbolizer::Impl::EnsureReported() {
  if (dwfl != nullptr) return true;
  if (setup_failed) return false;
  setup_failed = true;  // until proven otherwise: one attempt only
  const pid_t self = getpid();
  pid = requested_pid == 0 ? self : requested_pid;
  is_self = pid == self;
  if (is_self) reported_adds = LoaderAdds();  // before reading the maps, so no load is missed
  dwfl = dwfl_begin(&kCallbacks);
  if (dwfl == nullptr) return false;
  dwfl_report_begin(dwfl);
  const int rc = dwfl_linux_proc_report(dwfl, pid);
  if (dwfl_report_end(dwfl, nullptr, nullptr) != 0 || rc != 0) {
    dwfl_end(dwfl);
    dwfl = nullptr;
    return false;
  }
  setup_failed = false;
  return true;
}

// Adds the modules mapped since the last report (dlopen). Modules already known are kept as they
// are (dwfl_report_begin_add), so their loaded debug info and our DWARF tables stay valid; a
// library since dlclosed stays known, which also lets its old addresses still resolve.
// dwfl_addrmodule alone is not enough: libdwfl 0.188 answers the highest module for any address
// above it (the stack, [vsyscall], ~0), so check that the module really spans the address.
Dwfl_Module* Symbolizer::Impl::ModuleAt(Dwarf_Addr addr) const {
  Dwfl_Module* module = dwfl_addrmodule(dwfl, addr);
  if (module == nullptr) return nullptr;
  Dwarf_Addr start = 0;
  Dwarf_Addr end = 0;
  dwfl_module_info(module, nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
  return addr >= start && addr < end ? module : nullptr;
}

bool Symbolizer::Impl::ReportAgain() {
  if (is_self) {
    const unsigned long long adds = LoaderAdds();
    if (adds == reported_adds) return false;
    reported_adds = adds;
  }
  dwfl_report_begin_add(dwfl);
  const int rc = dwfl_linux_proc_report(dwfl, pid);
  return dwfl_report_end(dwfl, nullptr, nullptr) == 0 && rc == 0;
}

SourceFrame Symbolizer::Impl::Resolve(uintptr_t pc, bool is_return_address) {
  SourceFrame frame;
  frame.pc = pc;
  if (pc == 0 || !EnsureReported()) return frame;
  // A return address points after the call, possibly at the next line or function: the call
  // instruction itself ends at pc - 1.
  const Dwarf_Addr addr = is_return_address ? pc - 1 : pc;

  Dwfl_Module* module = ModuleAt(addr);
  if (module == nullptr && ReportAgain()) module = ModuleAt(addr);
  if (module == nullptr) return frame;

  Dwarf_Addr start = 0;
  const char* module_name =
      dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (module_name != nullptr) frame.module = module_name;
  // Minus the load bias, so that the offset is the address as in the ELF file (what addr2line
  // and objdump take); minus the start of the mapping when the file cannot be read (the two agree
  // whenever the first PT_LOAD segment is at address 0, as in every PIE and shared library).
  Dwarf_Addr bias = 0;
  frame.module_offset = pc - (dwfl_module_getelf(module, &bias) != nullptr ? bias : start);

  GElf_Off symbol_offset = 0;
  GElf_Sym symbol;
  const char* symbol_name =
      dwfl_module_addrinfo(module, addr, &symbol_offset, &symbol, nullptr, nullptr, nullptr);
  if (symbol_name != nullptr && symbol_name[0] == '\0') symbol_name = nullptr;
  // A symbol with a size that covers the address is the function. Without one, libdwfl falls
  // back on the nearest sizeless symbol before the address, however far (crtstuff's
  // frame_dummy for a stripped local function): the DWARF knows better, when there is DWARF.
  if (symbol_name != nullptr && symbol.st_size > 0 && symbol_offset < symbol.st_size) {
    frame.function = Demangle(symbol_name);
  } else {
    Dwarf_Addr dwarf_bias = 0;
    if (Dwarf_Die* cu = dwfl_module_addrdie(module, addr, &dwarf_bias)) {
      frame.function = dwarf_functions.Find(cu, addr - dwarf_bias);
    }
    if (frame.function.empty() && symbol_name != nullptr) frame.function = Demangle(symbol_name);
  }

  if (Dwfl_Line* line = dwfl_module_getsrc(module, addr)) {
    int line_number = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &line_number, nullptr, nullptr, nullptr);
    if (file != nullptr) {
      frame.file = file;
      frame.line = line_number;
    }
  }
  return frame;
}

Symbolizer::Symbolizer(pid_t pid) : impl_(std::make_unique<Impl>(pid)) {}

Symbolizer::~Symbolizer() = default;

SourceFrame Symbolizer::Symbolize(uintptr_t pc, bool is_return_address) {
  try {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    const CacheKey key{pc, is_return_address};
    if (auto it = impl_->cache.find(key); it != impl_->cache.end()) return it->second;
    SourceFrame frame = impl_->Resolve(pc, is_return_address);
    impl_->cache.emplace(key, frame);
    return frame;
  } catch (...) {
    // Out of memory, or a lock that cannot be taken: the caller prints the bare address.
    SourceFrame frame;
    frame.pc = pc;
    return frame;
  }
}

}  // namespace threadleak
