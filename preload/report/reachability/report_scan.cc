#include "preload/report/reachability/report_scan.h"

#include "preload/report/reachability/process_layout.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace threadleak {
namespace {

// Names of global variables for the paths a scan reports ("g_queue"), from the modules' symbol
// tables (objects included, which the symbolizer's function index leaves out). Set up on the
// first name asked for: a scan that proves everything never pays for it.
class GlobalNames {
  // The modules' own symbol tables only: no separate debug files, never debuginfod.
  static int NoDebugFiles(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*,
                          GElf_Word, char**) {
    return -1;
  }

 public:
  explicit GlobalNames(pid_t pid) : pid_(pid) {}
  ~GlobalNames() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }
  GlobalNames(const GlobalNames&) = delete;
  GlobalNames& operator=(const GlobalNames&) = delete;

  // "(anonymous namespace)::g_pool", "g_table+16", or "" when no symbol covers `address`.
  std::string Name(uintptr_t address) {
    if (dwfl_ == nullptr && !tried_) {
      tried_ = true;
      callbacks_.find_elf = dwfl_linux_proc_find_elf;
      callbacks_.find_debuginfo = NoDebugFiles;
      dwfl_ = dwfl_begin(&callbacks_);
      if (dwfl_ != nullptr) {
        dwfl_report_begin(dwfl_);
        int failed = dwfl_linux_proc_report(dwfl_, pid_);
        dwfl_report_end(dwfl_, nullptr, nullptr);
        if (failed != 0) {
          dwfl_end(dwfl_);
          dwfl_ = nullptr;
        }
      }
    }
    if (dwfl_ == nullptr) return "";
    Dwfl_Module* module = dwfl_addrmodule(dwfl_, address);
    if (module == nullptr) return "";
    GElf_Off offset = 0;
    GElf_Sym symbol;
    const char* name =
        dwfl_module_addrinfo(module, address, &offset, &symbol, nullptr, nullptr, nullptr);
    if (name == nullptr || (symbol.st_size != 0 && offset >= symbol.st_size)) return "";
    int status = -1;
    char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string out = status == 0 && demangled != nullptr ? demangled : name;
    free(demangled);
    if (offset != 0) out += "+" + std::to_string(offset);
    return out;
  }

 private:
  pid_t pid_;
  bool tried_ = false;
  Dwfl_Callbacks callbacks_ = {};
  Dwfl* dwfl_ = nullptr;
};

// watchdog_abandoned (TL_REPORT_ABANDONED): of all the threads, those the scan proved abandoned
// and that no earlier report named in the same wait.
struct AbandonedOnly {
  tl_snapshot snapshot{};
  std::vector<tl_thread> threads;
  Reachability reach;

  // `reported`: the (tid, wait) pairs earlier reports named, kept by the shim between reports
  // (each report has a writer process of its own); the ones named now are added.
  bool Keep(const tl_snapshot& all, const std::optional<Reachability>& scanned,
            std::set<std::pair<int32_t, uint64_t>>* reported) {
    if (!scanned || !scanned->ok) return false;
    reach.ok = true;
    reach.stats = scanned->stats;
    for (uint32_t i = 0; i < all.thread_count && i < scanned->threads.size(); ++i) {
      if (scanned->threads[i].fate != ThreadFate::kAbandoned) continue;
      const tl_thread& t = all.threads[i];
      const uint64_t wait = t.unwind.kind == TL_UNWIND_HOOK ? t.unwind.word : t.object;
      if (!reported->insert({t.tid, wait}).second) continue;
      threads.push_back(t);
      reach.threads.push_back(scanned->threads[i]);
    }
    if (threads.empty()) return false;
    snapshot = all;
    snapshot.threads = threads.data();
    snapshot.thread_count = static_cast<uint32_t>(threads.size());
    return true;
  }
};

// Whether any thread waits on something only another thread can release: else there is
// nothing to prove, and a program without leaks pays nothing.
bool AnyoneWaitsForOthers(const tl_snapshot& snapshot) {
  for (uint32_t i = 0; i < snapshot.thread_count; ++i) {
    if (tl_state_waits_for_others(snapshot.threads[i].state)) return true;
  }
  return false;
}

// The reachability scan (reachability.h), when the report is one that proves: exit and API
// reports, dumps and watchdog reports with leak_scan=1. `report_frame`: the report's outermost
// frame on this thread's stack; what lies above it is the program's (or the shim's).
std::optional<Reachability> ScanIfAsked(const tl_snapshot& snapshot, const tl_report_config& config,
                                        uintptr_t report_frame) {
  const bool proves = snapshot.kind == TL_REPORT_LEAKS || snapshot.kind == TL_REPORT_ABANDONED;
  if (config.leak_scan_max_mb == 0 || (!proves && !config.leak_scan)) return std::nullopt;
  if (!AnyoneWaitsForOthers(snapshot)) return std::nullopt;
  ReachabilityRequest request;
  request.pid = snapshot.pid;
  request.threads = snapshot.threads;
  request.count = snapshot.thread_count;
  request.reporting_tid = snapshot.reporting_tid;
  request.reporting_role = snapshot.trigger == TL_TRIGGER_EXIT  ? ReportingRole::kExiting
                           : snapshot.trigger == TL_TRIGGER_API ? ReportingRole::kContinuing
                                                                : ReportingRole::kTool;
  request.reporting_stack_from =
      snapshot.reporting_stack_from != 0 ? snapshot.reporting_stack_from : report_frame;
  request.reporting_handle = snapshot.reporting_handle;
  request.tool_memory = snapshot.tool_memory;
  request.tool_memory_count = snapshot.tool_memory_count;
  request.max_bytes = size_t{config.leak_scan_max_mb} << 20;
  GlobalNames names(snapshot.pid);
  request.name_global = [&names](uintptr_t address) { return names.Name(address); };
  // Registry chunks it could not list count as the program's memory: their wait slots can
  // only keep more alive, so the proofs stand.
  Reachability reach = ScanReachability(request);
  return reach;
}

}  // namespace

std::optional<Reachability> ScanForReport(const tl_snapshot& snapshot,
                                          const tl_report_config& config, pid_t target) {
  tl_snapshot scanned = snapshot;
  scanned.pid = target;  // read through a thread that lives until the report is written
  return ScanIfAsked(scanned, config, 0);
}

bool KeepNewlyAbandoned(const tl_snapshot& all, const std::optional<Reachability>& scanned,
                        std::set<std::pair<int32_t, uint64_t>>* reported, AbandonedReport* out) {
  auto kept = std::make_unique<AbandonedOnly>();
  if (!kept->Keep(all, scanned, reported)) return false;
  out->threads = std::move(kept->threads);
  out->reach = std::move(kept->reach);
  out->snapshot = kept->snapshot;
  out->snapshot.threads = out->threads.data();
  out->snapshot.thread_count = static_cast<uint32_t>(out->threads.size());
  return true;
}

}  // namespace threadleak
