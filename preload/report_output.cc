#include "preload/report_output.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <string_view>

#include "preload/departed_modules.h"
#include "preload/diagnostics.h"
#include "preload/fixed_buffer.h"
#include "preload/options.h"
#include "preload/real_functions.h"
#include "preload/registry.h"
#include "preload/report_destination.h"
#include "preload/suppressions.h"

namespace threadleak {
namespace {

constinit tl_write_report_fn g_write_report = nullptr;
constinit tl_unwind_stacks_fn g_unwind_stacks = nullptr;
constinit bool g_module_tried = false;
constinit char g_module_error[256] = {};

// The destination of the report being written (the report lock serializes them), opened when
// the report module has something to write: a log file is not created for a report that says
// nothing.
constinit Destination g_destination = Destination::kNone;
constinit OpenedDestination g_open = {};
constinit bool g_opened = false;

extern "C" int OpenLogDestination() {
  g_opened = true;
  g_open = OpenReportDestination(g_destination);
  return g_open.fd;
}

// A write to a pipe nobody reads any more raises SIGPIPE, whose default action ends the
// process: blocked while a report is written, and taken back if the report raised it.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      timespec now = {};  // (the system call itself: sigtimedwait is hooked)
      Real().syscall(SYS_rt_sigtimedwait, &pipe_, nullptr, &now, _NSIG / 8);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t pipe_;
  sigset_t previous_;
  bool was_pending_ = false;
};

tl_write_report_fn LoadReportModule() {
  if (g_module_tried) return g_write_report;
  g_module_tried = true;
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&LoadReportModule), &self) == 0 || self.dli_fname == nullptr) {
    FixedBuffer<256> error;
    error.Append("cannot locate libthreadleak.so");
    memcpy(g_module_error, error.c_str(), error.size() + 1);
    return nullptr;
  }
  std::string_view shim_path(self.dli_fname);
  size_t slash = shim_path.rfind('/');
  FixedBuffer<4096> module_path;
  if (slash != std::string_view::npos)
    module_path.Append(std::string_view(shim_path.data(), slash + 1));
  module_path.Append("libthreadleak_report.so");
  void* module = dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module != nullptr) {
    g_write_report = reinterpret_cast<tl_write_report_fn>(dlsym(module, "threadleak_write_report"));
    g_unwind_stacks =
        reinterpret_cast<tl_unwind_stacks_fn>(dlsym(module, "threadleak_unwind_stacks"));
  }
  if (g_write_report == nullptr) {
    const char* error = dlerror();
    FixedBuffer<256> message;
    message.Append(error != nullptr ? error : "threadleak_write_report not found");
    memcpy(g_module_error, message.c_str(), message.size() + 1);
  }
  return g_write_report;
}

// Without the report module: what the shim knows, with raw addresses. Plain text either way,
// since nothing can be symbolized. Returns false if a write failed.
bool WritePlainReport(int fd, const tl_thread* threads, size_t count) {
  FixedBuffer<512> line;
  line.Append("threadleak: found ").AppendInt(static_cast<int64_t>(count));
  line.Append(count == 1 ? " unexpected thread" : " unexpected threads");
  line.Append(" (report module unavailable: ").Append(g_module_error).Append(")\n");
  bool written = WriteAll(fd, line.view());
  for (size_t i = 0; written && i < count; ++i) {
    const tl_thread& thread = threads[i];
    FixedBuffer<2048> text;
    text.Append("[Thread ").AppendInt(thread.tid).Append(" \"").Append(thread.name);
    text.Append("\" in state ").Append(tl_state_name(thread.state)).Append(":");
    for (uint32_t f = 0; f < thread.stack.depth; ++f)
      text.Append(" ").AppendHex(thread.stack.pcs[f]);
    text.Append("\n created by thread ").AppendInt(thread.creator_tid).Append(":");
    for (uint32_t f = 0; f < thread.creation.depth; ++f) {
      text.Append(" ").AppendHex(thread.creation.pcs[f]);
    }
    text.Append("\n]\n");
    written = WriteAll(fd, text.view());
  }
  return written;
}

}  // namespace

bool UnwindStacks(tl_thread* threads, size_t count) {
  LoadReportModule();
  if (g_unwind_stacks == nullptr) return false;
  g_unwind_stacks(threads, static_cast<uint32_t>(count));
  return true;
}

int WriteReport(uint32_t trigger, uint32_t kind, const tl_thread* threads, size_t count, int fd,
                int copy_fd) {
  tl_write_report_fn write_report = LoadReportModule();
  tl_module departed[kMaxDepartedModules];
  size_t departed_count = CopyDepartedModules(departed, kMaxDepartedModules);
  tl_snapshot snapshot{static_cast<int32_t>(getpid()),
                       trigger,
                       kind,
                       static_cast<uint32_t>(count),
                       threads,
                       static_cast<uint32_t>(departed_count),
                       departed,
                       0,
                       0,
                       nullptr,
                       0,
                       0};
  // What the reachability scan must know of threadleak itself: its memory (the registry's
  // chunks, the collected threads) and the frames of the report on this thread's stack.
  constexpr size_t kToolRanges = 512;
  static tl_range tool_memory[kToolRanges];  // under the report lock
  size_t chunks = 0;
  bool complete = ListRegistryChunks(tool_memory, kToolRanges - 1, &chunks);
  const auto list_start = reinterpret_cast<uintptr_t>(threads);
  tool_memory[chunks++] = {list_start, (list_start + sizeof(tl_thread) * count + 4095) & ~4095ul};
  snapshot.reporting_tid = static_cast<int32_t>(gettid());
  snapshot.tool_memory_count = static_cast<uint32_t>(chunks);
  snapshot.tool_memory = tool_memory;
  snapshot.tool_memory_complete = complete ? 1 : 0;
  snapshot.reporting_stack_from = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const Options& options = GlobalOptions();
  tl_report_config config{static_cast<uint32_t>(options.format),
                          fd,
                          OpenLogDestination,
                          options.symbolize,
                          options.demangle,
                          options.debuginfod,
                          options.strip_path_prefix,
                          GlobalSuppressions().rules,
                          static_cast<uint32_t>(GlobalSuppressions().count),
                          options.default_suppressions,
                          options.print_suppressions,
                          copy_fd,
                          options.leak_scan,
                          static_cast<uint32_t>(options.leak_scan_max_mb)};
  SigpipeBlocked sigpipe_blocked;
  const int plain_result = kind == TL_REPORT_LEAKS ? static_cast<int>(count) : 0;
  if (fd >= 0) {  // the program's own descriptor (threadleak_dump): that one, or nothing
    int leaks = write_report != nullptr ? write_report(&snapshot, &config) : -1;
    if (leaks >= 0) return leaks;
    WritePlainReport(fd, threads, count);
    return plain_result;
  }
  // The configured destination, then the next that can be opened and written.
  bool plain = write_report == nullptr;
  for (g_destination = ConfiguredDestination(); g_destination != Destination::kNone;) {
    g_opened = false;
    int leaks = -1;
    if (plain) {
      int out = OpenLogDestination();
      leaks = out >= 0 && WritePlainReport(out, threads, count) ? plain_result : -1;
    } else {
      leaks = write_report(&snapshot, &config);
      config.copy_fd = -1;  // written once, whichever destination takes the report
    }
    int error = errno;
    if (leaks >= 0) {
      CloseReportDestination(&g_open);
      return leaks;
    }
    if (!g_opened) {  // the module failed before it had anything to write
      plain = true;
      continue;
    }
    if (g_open.fd < 0) break;  // nothing could be opened (each said why)
    g_destination = AbandonDestination(&g_open, error);
  }
  return plain_result;
}

void CloseReportDestinationAfterFork() {
  // A child forked while its parent wrote a report inherits the descriptor: it is not the
  // child's to keep (and the child's reports open their own).
  CloseReportDestination(&g_open);
}

}  // namespace threadleak
