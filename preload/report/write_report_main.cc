// threadleak-write-report: the report writer, a process the shim starts for each report
// (report_request.h says why and how). It reads the program it reports on from outside —
// memory through process_vm_readv, modules and threads from /proc/PID — so nothing it does can
// wait for a lock the program holds, and nothing it allocates lands in the program's heap.
//
// Not meant to be run by hand: it expects the descriptors report_request.h lists, and exits with
// status 2 without them.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "preload/capture/process_memory.h"
#include "preload/capture/thread_scan.h"
#include "preload/config/options.h"
#include "preload/handoff/report_config.h"
#include "preload/handoff/report_request.h"
#include "preload/io/diagnostics.h"
#include "preload/report/analysis/quick_count.h"
#include "preload/report/analysis/suppression_rules.h"
#include "preload/report/blocked_stacks.h"
#include "preload/report/reachability/process_layout.h"
#include "preload/report/reachability/process_shared.h"
#include "preload/report/reachability/report_scan.h"
#include "preload/report/render/dot_report.h"
#include "preload/report/render/json_report.h"
#include "preload/report/render/pprof_report.h"
#include "preload/report/render/text_report.h"
#include "preload/report/report_context.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {
namespace {

constexpr int kBadInvocation = 2;

const Options& RequestOptions(const tl_report_request* request) {
  return *reinterpret_cast<const Options*>(reinterpret_cast<const char*>(request) +
                                           request->options_offset);
}

// The request, mapped shared with the shim: the threads' stacks are written in place.
tl_report_request* MapRequest() {
  struct stat info;
  if (fstat(TL_REQUEST_FD, &info) != 0 ||
      info.st_size < static_cast<off_t>(sizeof(tl_report_request)))
    return nullptr;
  void* memory = mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ | PROT_WRITE,
                      MAP_SHARED, TL_REQUEST_FD, 0);
  if (memory == MAP_FAILED) return nullptr;
  auto* request = static_cast<tl_report_request*>(memory);
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  const bool valid =
      request->magic == TL_REQUEST_MAGIC && request->version == TL_REQUEST_VERSION &&
      request->struct_size == sizeof(tl_report_request) &&
      request->thread_size == sizeof(tl_thread) && request->size == size &&
      request->departed_module_count <= TL_REQUEST_MAX_DEPARTED &&
      request->threads_offset <= size &&
      request->thread_count <= (size - request->threads_offset) / sizeof(tl_thread) &&
      request->suppressions_offset <= size &&
      request->suppression_count <=
          (size - request->suppressions_offset) / sizeof(tl_suppression) &&
      request->options_size == sizeof(Options) && request->options_offset % alignof(Options) == 0 &&
      request->options_offset <= size && sizeof(Options) <= size - request->options_offset;
  // Values the shim's parser could have given them, strings terminated within their buffers.
  if (!valid || !HoldsDeclaredValues(RequestOptions(request))) return nullptr;
  return request;
}

tl_thread* Threads(tl_report_request* request) {
  return reinterpret_cast<tl_thread*>(reinterpret_cast<char*>(request) + request->threads_offset);
}

// threadleak's own thread's stack, as a range of tool memory (report_request.h): its stack block,
// from its descriptor. Not the mapping that holds its stack pointer: the kernel may have merged
// the program's own memory into that mapping. A descriptor that does not check out adds
// nothing, and the stack counts as the program's memory (a proof can only be lost that way).
void AddToolThreadStack(tl_report_request* request) {
  if (request->tool_thread_tid <= 0 || request->tool_memory_count >= TL_REQUEST_MAX_TOOL_RANGES)
    return;
  const TargetMemory memory(TargetProcess());
  const AddressRange block = ReadStackBlock(
      memory, static_cast<uintptr_t>(request->tool_thread_handle), request->tool_thread_tid);
  if (block.end == 0) return;
  request->tool_memory[request->tool_memory_count++] = {block.start, block.end};
}

// Symbolizes, analyses and renders the report; writes it to TL_OUTPUT_FD. Returns the number of
// threads it counts as leaked (0 for dumps; suppressed threads do not count), or -1.
int WriteReport(tl_report_request* request) {
  AddToolThreadStack(request);
  const tl_snapshot snapshot{
      .pid = request->pid,
      .trigger = request->trigger,
      .kind = request->kind,
      .thread_count = request->thread_count,
      .threads = Threads(request),
      .departed_module_count = request->departed_module_count,
      .departed_modules = request->departed_modules,
      .fatal_signal = request->fatal_signal,
      .reporting_tid = request->reader_tid,
      .tool_memory_count = request->tool_memory_count,
      .tool_memory = request->tool_memory,
      .tool_memory_complete = request->tool_memory_complete,
      .reporting_stack_from = static_cast<uintptr_t>(request->reporting_stack_from),
      .reporting_handle = static_cast<uintptr_t>(request->reporting_handle)};
  const tl_report_config config =
      ReportConfig(RequestOptions(request),
                   {.fd = TL_OUTPUT_FD,
                    .suppressions = reinterpret_cast<const tl_suppression*>(
                        reinterpret_cast<const char*>(request) + request->suppressions_offset),
                    .suppression_count = request->suppression_count});
  try {
    FrameOptions options;
    options.symbolize = config.symbolize != 0;
    options.strip_path_prefix = config.strip_path_prefix;
    SymbolizerOptions symbolizer_options;
    symbolizer_options.demangle = config.demangle != 0;
    symbolizer_options.debuginfod = config.debuginfod != 0;
    Symbolizer symbolizer(std::move(symbolizer_options));
    // The scan first: it reads the program's heap while the threads it relies on stay put.
    std::optional<Reachability> reach;
    if (request->count_only) {
      // Whether any thread counts at all: the rules, on frames named only as far as they need
      // (quick_count.h); no scan.
      return static_cast<int>(CountLeaksQuickly(snapshot, ActiveSuppressions(config), symbolizer,
                                                config.demangle != 0));
    }
    // Before the scan and the verdicts: an object another process can hold or wake is never
    // judged from this process's threads alone.
    MarkProcessSharedObjects(Threads(request), request->thread_count, TargetProcess());
    reach = ScanForReport(snapshot, config, TargetProcess());
    const tl_snapshot* shown = &snapshot;
    AbandonedReport abandoned;
    if (snapshot.kind == TL_REPORT_ABANDONED) {
      std::set<std::pair<int32_t, uint64_t>> reported;
      const uint32_t known = std::min<uint32_t>(request->abandoned_count, TL_REQUEST_MAX_ABANDONED);
      for (uint32_t i = 0; i < known; ++i) {
        reported.insert({request->abandoned[i].tid, request->abandoned[i].wait});
      }
      const bool any = KeepNewlyAbandoned(snapshot, reach, &reported, &abandoned);
      uint32_t count = 0;
      for (const auto& [tid, wait] : reported) {
        if (count == TL_REQUEST_MAX_ABANDONED) break;
        request->abandoned[count++] = {tid, 0, wait};
      }
      request->abandoned_count = count;
      if (!any) return 0;  // nothing newly abandoned
      shown = &abandoned.snapshot;
      reach = abandoned.reach;
    }
    ReportContext context =
        MakeReportContext(*shown, SymbolizeThreads(*shown, symbolizer, options),
                          ActiveSuppressions(config), reach ? &*reach : nullptr);
    const tl_snapshot& snapshot_shown = *shown;
    const bool leak_report = snapshot_shown.kind == TL_REPORT_LEAKS;
    const size_t leaks = leak_report ? context.LeakCount() : 0;
    context.print_suppressions = leak_report && config.print_suppressions;
    std::string report;
    // A leak report whose threads are all suppressed is no report — nothing leaked — unless
    // the user asked to see which rules were used.
    if (!leak_report || leaks > 0 || context.print_suppressions) {
      report = config.format == TL_FORMAT_DOT     ? RenderDot(snapshot_shown, context.graph)
               : config.format == TL_FORMAT_PPROF ? RenderPprofReport(context)
               : config.format == TL_FORMAT_JSON  ? RenderJsonReport(context)
                                                  : RenderTextReport(context);
    }
    if (context.print_suppressions && config.format == TL_FORMAT_TEXT)
      report += RenderSuppressionUse(context);
    if (!report.empty() && !WriteAll(TL_OUTPUT_FD, report)) return -1;
    return static_cast<int>(leaks);
  } catch (const std::exception&) {
    return -1;  // the shim writes its plain report instead
  }
}

int Serve(tl_report_request* request) {
  SetTargetProcess(request->reader_tid > 0 ? request->reader_tid : request->pid);
  // The writer inherits the program's seccomp filters, and any of them may kill it for
  // process_vm_readv (a killed writer leaves the shim's plain report).
  ChooseMemoryReader(SeccompMode());
  // Ready before the shim asks: its look at the threads is then as fresh as it can be.
  std::unique_ptr<BlockedStackUnwinder> unwinder;
  try {
    unwinder = std::make_unique<BlockedStackUnwinder>();
  } catch (const std::exception&) {
  }
  const char ready = TL_WRITER_READY;
  if (write(TL_CONTROL_FD, &ready, 1) != 1) return 0;
  for (;;) {
    char command;
    ssize_t n = read(TL_CONTROL_FD, &command, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) return 0;  // the shim is done (or gone)
    char answer = static_cast<char>(command | 0x20);
    if (command == TL_COMMAND_UNWIND) {
      try {
        if (unwinder != nullptr) unwinder->Unwind(Threads(request), request->thread_count);
      } catch (const std::exception&) {
        // Out of memory: the threads not reached keep no stack; the report still comes.
      }
    } else if (command == TL_COMMAND_REPORT) {
      request->leaks = WriteReport(request);
    } else {
      return kBadInvocation;
    }
    if (write(TL_CONTROL_FD, &answer, 1) != 1) return 0;
  }
}

}  // namespace
}  // namespace threadleak

int main() {
  // Nothing of the program's but the three descriptors is ours to hold: a pipe's write end kept
  // open here would keep its reader from seeing the end of file while the report runs.
  syscall(SYS_close_range, TL_CONTROL_FD + 1, ~0u, 0);
  // Its standard streams are the program's: anything a library says here (libdw, debuginfod's
  // progress, a sanitizer's summary in a sanitized build) would land in the program's output.
  // What the writer has to say is in the report.
  if (int null = open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    for (int fd = 0; fd <= 2; ++fd) dup2(null, fd);
    close(null);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the shim spawned it with every signal blocked
  tl_report_request* request = threadleak::MapRequest();
  if (request == nullptr) return threadleak::kBadInvocation;
  return threadleak::Serve(request);
}
