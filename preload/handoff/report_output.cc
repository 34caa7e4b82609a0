#include "preload/handoff/report_output.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <string_view>

#include "preload/core/real_functions.h"
#include "preload/handoff/report_destination.h"
#include "preload/handoff/report_writer.h"
#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"

namespace threadleak {
namespace {

// The destination of the report being written (the report lock serializes them): a child forked
// meanwhile closes it (CloseReportDescriptorsAfterFork).
constinit OpenedDestination g_open = {};

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

// Without the writer: what the shim knows, with raw addresses. Plain text whatever the format,
// since nothing can be symbolized. Returns false if a write failed.
bool WritePlainReport(int fd, const char* why, const tl_thread* threads, size_t count) {
  FixedBuffer<512> line;
  line.Append("threadleak: found ").AppendInt(static_cast<int64_t>(count));
  line.Append(count == 1 ? " unexpected thread" : " unexpected threads");
  line.Append(" (report writer unavailable: ").Append(why).Append(")\n");
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

// The report as the writer rendered it, or the plain one.
struct Rendered {
  std::string_view text;  // the writer's report; empty for "nothing to say" or a plain report
  bool plain = false;
  const char* why = "";
};

bool WriteRendered(int fd, const Rendered& report, const tl_thread* threads, size_t count) {
  return report.plain ? WritePlainReport(fd, report.why, threads, count)
                      : WriteAll(fd, report.text);
}

}  // namespace

int WriteReport(ReportWriter* writer, uint32_t kind, const tl_thread* threads, size_t count, int fd,
                int copy_fd) {
  SigpipeBlocked sigpipe_blocked;
  Rendered report;
  int leaks =
      fd == kCountOnly ? writer->CountLeaks(threads, count) : writer->Render(threads, count);
  if (leaks >= 0) {
    report.text = writer->Output();
    if (report.text.empty()) return leaks;  // every leak suppressed: nothing to write
  } else {
    report.plain = true;
    report.why = writer->Error() != nullptr ? writer->Error() : "it failed";
    leaks = kind == TL_REPORT_LEAKS ? static_cast<int>(count) : 0;
  }
  if (fd == kCountOnly) return leaks;
  if (copy_fd >= 0) WriteRendered(copy_fd, report, threads, count);
  if (fd >= 0) {  // the program's own descriptor (threadleak_dump): that one, or nothing
    WriteRendered(fd, report, threads, count);
    return leaks;
  }
  // The configured destination, then the next that can be opened and written.
  for (Destination where = ConfiguredDestination(); where != Destination::kNone;) {
    g_open = OpenReportDestination(where);
    if (g_open.fd < 0) break;  // nothing could be opened (each said why)
    if (WriteRendered(g_open.fd, report, threads, count)) {
      CloseReportDestination(&g_open);
      return leaks;
    }
    where = AbandonDestination(&g_open, errno);
  }
  return leaks;
}

void CloseReportDescriptorsAfterFork() {
  // A child forked while its parent wrote a report inherits its descriptors: they are not the
  // child's to keep (and the child's reports open their own).
  CloseReportDestination(&g_open);
  CloseReportWriterAfterFork();
}

}  // namespace threadleak
