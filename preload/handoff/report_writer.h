// The shim's side of the report writer, the process that symbolizes, analyses and renders each
// report (report_request.h says why it is a process). One ReportWriter per report:
//
//   ReportWriter writer;                       // nothing yet
//   writer.Start(trigger, kind, count);        // memfds, socket, vfork + exec of the writer
//   writer.Unwind(threads, count);             // blocked threads' stacks, read from outside
//   ... the shim samples running threads, reads blockers ...
//   writer.Render(threads, count);             // the finished report, in Output()
//
// Everything here takes no lock and allocates nothing the program shares: memfd_create, mmap,
// socketpair, clone(CLONE_VM) of an intermediate child on a stack of its own that starts the
// writer with clone(CLONE_VM | CLONE_VFORK) and execve and stays its parent until it ends, read
// and write on the socket, futex, wait4 — system calls only. So a report can be made while a leaked
// thread holds malloc's lock, the loader's lock or stdio's.
//
// The writer is started with every signal blocked and no exit signal (so the program gets no
// SIGCHLD and its wait(-1) never sees it), with the program's environment less LD_PRELOAD and
// LD_AUDIT, and with the request, output and control descriptors as 3, 4 and 5 only.
#ifndef THREADLEAK_PRELOAD_HANDOFF_REPORT_WRITER_H_
#define THREADLEAK_PRELOAD_HANDOFF_REPORT_WRITER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "preload/handoff/report_request.h"

namespace threadleak {

struct SpawnArgs;  // report_writer.cc

// Finds the writer next to the shim, at start-up (dladdr takes the loader's lock, which a
// report must never wait for).
void InitReportWriter();

// In a fork child: closes the descriptors of the writer its parent was talking to (the writer is
// the parent's child, not this process's).
void CloseReportWriterAfterFork();

// The report runs on a stack of threadleak's own (the fatal-signal dump's, mapped for it) from
// now until NoteReportStack(0, 0): never a root of the reachability scan. Async-signal-safe.
void NoteReportStack(uintptr_t start, uintptr_t end);

class ReportWriter {
 public:
  ReportWriter() = default;
  ~ReportWriter();
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;

  // Starts the writer for a report of `count` threads. False (and why, in Error()) if it cannot
  // start: then the report is the shim's plain one.
  // `list`, `list_bytes`: the collected threads' memory, and `reporting_stack_from` where the
  // report's frames end on this thread's stack — both threadleak's, never a root of the
  // reachability scan.
  bool Start(uint32_t trigger, uint32_t kind, size_t count, const void* list, size_t list_bytes,
             uintptr_t reporting_stack_from, int fatal_signal = 0);

  // Fills the stacks of threads that are not running (tl_thread::unwind). False if the writer
  // is not running or failed.
  bool Unwind(tl_thread* threads, size_t count);

  // Renders the report of `threads`. Returns the number of threads it counts as leaked, or -1
  // if the writer failed. The report itself is Output() (empty when there is nothing to say).
  int Render(const tl_thread* threads, size_t count);
  // Render, counting the leaks only (no scan, no text): Output() stays empty.
  int CountLeaks(const tl_thread* threads, size_t count);
  std::string_view Output() const { return {output_, output_size_}; }

  // Why Start() or the exchange failed, for the plain report's header.
  const char* Error() const { return error_; }

 private:
  friend void CloseReportWriterAfterFork();
  bool Exchange(char command);
  void ReapChildren();
  bool AwaitAnswer(char expected);
  void Fail(const char* why);

  tl_report_request* request_ = nullptr;
  size_t request_bytes_ = 0;
  int request_fd_ = -1;
  int output_fd_ = -1;
  int control_fd_ = -1;
  pid_t pid_ = -1;
  pid_t intermediate_ = -1;       // the writer's parent, this process's child (no exit signal)
  char* spawn_memory_ = nullptr;  // the children's stacks and arguments, until both are reaped
  size_t spawn_bytes_ = 0;
  SpawnArgs* spawn_args_ = nullptr;
  bool ptracer_set_ = false;
  const char* output_ = nullptr;
  size_t output_size_ = 0;
  const char* error_ = "not started";
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_HANDOFF_REPORT_WRITER_H_
