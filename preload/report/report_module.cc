// libthreadleak_report.so: loaded by the shim (RTLD_LOCAL) when it makes its first report, so
// libdw, libstdc++ and their dependencies cost nothing to a program until then.
#include <cxxabi.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "preload/diagnostics.h"
#include "preload/report/blocked_stacks.h"
#include "preload/report/json_report.h"
#include "preload/report/reachability.h"
#include "preload/report/report_context.h"
#include "preload/report/suppression_rules.h"
#include "preload/report/text_report.h"
#include "symbolizer/symbolizer.h"

namespace {

// One symbolizer per set of options that change its answers, kept across reports so its caches
// stay warm. Options do not change within a run; should they, the other answers stay valid.
threadleak::Symbolizer& SymbolizerFor(const tl_report_config& config) {
  static std::mutex mutex;
  static auto* symbolizers =
      new std::map<std::pair<bool, bool>, std::unique_ptr<threadleak::Symbolizer>>();
  const bool demangle = config.demangle != 0;
  const bool debuginfod = config.debuginfod != 0;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<threadleak::Symbolizer>& symbolizer = (*symbolizers)[{demangle, debuginfod}];
  if (symbolizer == nullptr) {
    threadleak::SymbolizerOptions options;
    options.demangle = demangle;
    options.debuginfod = debuginfod;
    symbolizer = std::make_unique<threadleak::Symbolizer>(std::move(options));
  }
  return *symbolizer;
}

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
  threadleak::Reachability reach;

  bool Keep(const tl_snapshot& all, const std::optional<threadleak::Reachability>& scanned) {
    static std::mutex mutex;
    static auto* reported = new std::set<std::pair<int32_t, uint64_t>>();  // (tid, wait)
    if (!scanned || !scanned->ok) return false;
    std::lock_guard<std::mutex> lock(mutex);
    reach.ok = true;
    reach.stats = scanned->stats;
    for (uint32_t i = 0; i < all.thread_count && i < scanned->threads.size(); ++i) {
      if (scanned->threads[i].fate != threadleak::ThreadFate::kAbandoned) continue;
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
    switch (snapshot.threads[i].state) {
      case TL_STATE_MUTEX:
      case TL_STATE_COND:
      case TL_STATE_RWLOCK:
      case TL_STATE_SEM:
      case TL_STATE_BARRIER:
      case TL_STATE_JOIN:
      case TL_STATE_FUTEX:
        return true;
      default:
        break;
    }
  }
  return false;
}

// The reachability scan (reachability.h), when the report is one that proves: exit and API
// reports, dumps and watchdog reports with leak_scan=1. `report_frame`: the report's outermost
// frame on this thread's stack; what lies above it is the program's (or the shim's).
std::optional<threadleak::Reachability> ScanIfAsked(const tl_snapshot& snapshot,
                                                    const tl_report_config& config,
                                                    uintptr_t report_frame) {
  const bool proves = snapshot.kind == TL_REPORT_LEAKS || snapshot.kind == TL_REPORT_ABANDONED;
  if (config.leak_scan_max_mb == 0 || (!proves && !config.leak_scan)) return std::nullopt;
  if (!AnyoneWaitsForOthers(snapshot)) return std::nullopt;
  threadleak::ReachabilityRequest request;
  request.pid = snapshot.pid;
  request.threads = snapshot.threads;
  request.count = snapshot.thread_count;
  request.reporting_tid = snapshot.reporting_tid;
  request.reporting_role = snapshot.trigger == TL_TRIGGER_EXIT ? threadleak::ReportingRole::kExiting
                           : snapshot.trigger == TL_TRIGGER_API
                               ? threadleak::ReportingRole::kContinuing
                               : threadleak::ReportingRole::kTool;
  request.reporting_stack_from =
      snapshot.reporting_stack_from != 0 ? snapshot.reporting_stack_from : report_frame;
  request.tool_memory = snapshot.tool_memory;
  request.tool_memory_count = snapshot.tool_memory_count;
  request.max_bytes = size_t{config.leak_scan_max_mb} << 20;
  GlobalNames names(snapshot.pid);
  request.name_global = [&names](uintptr_t address) { return names.Name(address); };
  // Registry chunks it could not list count as the program's memory: their wait slots can
  // only keep more alive, so the proofs stand.
  threadleak::Reachability reach = threadleak::ScanReachability(request);
  return reach;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void threadleak_unwind_stacks(tl_thread* threads,
                                                                                uint32_t count) {
  try {
    threadleak::UnwindBlockedStacks(threads, count);
  } catch (const std::exception&) {
    // Out of memory: the threads not reached keep no stack; the report still comes.
  }
}

extern "C" __attribute__((visibility("default"))) int threadleak_write_report(
    const tl_snapshot* snapshot, const tl_report_config* config) {
  try {
    threadleak::FrameOptions options;
    options.symbolize = config->symbolize != 0;
    if (config->strip_path_prefix != nullptr) options.strip_path_prefix = config->strip_path_prefix;
    // The scan first: it reads this process's heap, which symbolizing would only churn.
    std::optional<threadleak::Reachability> reach =
        ScanIfAsked(*snapshot, *config, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
    AbandonedOnly abandoned_only;
    if (snapshot->kind == TL_REPORT_ABANDONED) {
      if (!abandoned_only.Keep(*snapshot, reach)) return 0;  // nothing newly abandoned
      snapshot = &abandoned_only.snapshot;
      reach = abandoned_only.reach;
    }
    std::vector<threadleak::SymbolizedThread> threads =
        threadleak::SymbolizeThreads(*snapshot, SymbolizerFor(*config), options);
    threadleak::ReportContext context = threadleak::MakeReportContext(
        *snapshot, std::move(threads), threadleak::ActiveSuppressions(*config),
        reach ? &*reach : nullptr);
    bool leak_report = snapshot->kind == TL_REPORT_LEAKS;
    size_t leaks = leak_report ? context.LeakCount() : 0;
    context.print_suppressions = leak_report && config->print_suppressions;
    bool json = config->format == TL_FORMAT_JSON;
    std::string report;
    // A leak report whose threads are all suppressed is no report — nothing leaked — unless
    // the user asked to see which rules were used.
    if (!leak_report || leaks > 0 || context.print_suppressions) {
      report = config->format == TL_FORMAT_DOT ? threadleak::RenderDot(*snapshot, context.graph)
               : json                          ? threadleak::RenderJsonReport(context)
                                               : threadleak::RenderTextReport(context);
    }
    if (context.print_suppressions && config->format == TL_FORMAT_TEXT)
      report += threadleak::RenderSuppressionUse(context);
    if (!report.empty() && config->copy_fd >= 0) threadleak::WriteAll(config->copy_fd, report);
    if (!report.empty()) {
      int fd = config->fd >= 0 ? config->fd : config->open_destination();
      if (!threadleak::WriteAll(fd, report)) return -1;
    }
    return static_cast<int>(leaks);
  } catch (const std::exception&) {
    return -1;  // the shim falls back to its plain report
  }
}
