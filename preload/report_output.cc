#include "preload/report_output.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string_view>

#include "preload/departed_modules.h"
#include "preload/diagnostics.h"
#include "preload/fixed_buffer.h"
#include "preload/options.h"
#include "preload/suppressions.h"

namespace threadleak {
namespace {

constinit int g_log_fd = -1;
constinit pid_t g_log_pid = 0;  // the process that opened g_log_fd (fork gives a new one)
constinit tl_write_report_fn g_write_report = nullptr;
constinit bool g_module_tried = false;
constinit char g_module_error[256] = {};

// log_path=P writes to P.PID, created fresh: never follows a planted symlink, never clobbers.
extern "C" int OpenLogDestination() {
  const char* path = GlobalOptions().log_path;
  if (strcmp(path, "stderr") == 0) return STDERR_FILENO;
  if (strcmp(path, "stdout") == 0) return STDOUT_FILENO;
  if (g_log_fd >= 0 && g_log_pid == getpid()) return g_log_fd;
  FixedBuffer<kMaxOptionString + 32> full_path;
  full_path.Append(path).AppendChar('.').AppendInt(getpid());
  int fd = open(full_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC,
                0600);
  if (fd < 0) {
    FixedBuffer<kMaxOptionString + 160> line;
    line.Append("threadleak: warning: cannot create log file '").Append(full_path.view());
    line.Append("': ").Append(strerror(errno)).Append("; writing the report to stderr");
    WriteDiagnosticLine(line.view());
    return STDERR_FILENO;
  }
  g_log_fd = fd;
  g_log_pid = getpid();
  return fd;
}

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
// since nothing can be symbolized.
void WritePlainReport(int fd, const tl_thread* threads, size_t count) {
  FixedBuffer<512> line;
  line.Append("threadleak: found ").AppendInt(static_cast<int64_t>(count));
  line.Append(count == 1 ? " unexpected thread" : " unexpected threads");
  line.Append(" (report module unavailable: ").Append(g_module_error).Append(")\n");
  WriteAll(fd, line.view());
  for (size_t i = 0; i < count; ++i) {
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
    WriteAll(fd, text.view());
  }
}

}  // namespace

int WriteReport(uint32_t trigger, uint32_t kind, const tl_thread* threads, size_t count, int fd) {
  tl_write_report_fn write_report = LoadReportModule();
  tl_module departed[kMaxDepartedModules];
  size_t departed_count = CopyDepartedModules(departed, kMaxDepartedModules);
  tl_snapshot snapshot{
      static_cast<int32_t>(getpid()),        trigger, kind, static_cast<uint32_t>(count), threads,
      static_cast<uint32_t>(departed_count), departed};
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
                          options.print_suppressions};
  if (write_report != nullptr) {
    int leaks = write_report(&snapshot, &config);
    if (leaks >= 0) return leaks;
  }
  WritePlainReport(fd >= 0 ? fd : OpenLogDestination(), threads, count);
  return kind == TL_REPORT_LEAKS ? static_cast<int>(count) : 0;
}

}  // namespace threadleak
