// The C ABI between the shim and the report writer, a process of its own
// (lib/threadleak/threadleak-write-report, preload/report/write_report_main.cc).
//
// Why a process: once a leaked thread may hold a lock — malloc's, the loader's, stdio's — the
// shim may take none and allocate nothing the program shares. Symbolizing and formatting need
// both (libdw, libstdc++), so they run in a child that has its own heap and loader, reads the
// program's memory with process_vm_readv and its modules from /proc/PID. The shim only fills a
// memfd with plain data (this layout) and exchanges single bytes with the writer over a socket.
//
// The writer's descriptors, as the shim sets them up before exec:
//   3  the request: a memfd holding a tl_report_request, then the process's options, then its
//      suppressions, then its threads (offsets below); both processes map it shared, and the
//      writer fills the threads' stacks in place
//   4  the output: a memfd the writer writes the finished report into, for the shim to deliver
//   5  the control socket: the writer says it is ready, then the shim sends a command byte and
//      the writer answers with its lowercase when done; end of file on either side ends it
#ifndef THREADLEAK_PRELOAD_HANDOFF_REPORT_REQUEST_H_
#define THREADLEAK_PRELOAD_HANDOFF_REPORT_REQUEST_H_

#include <stdint.h>

#include "preload/core/snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  TL_REQUEST_MAGIC = 0x51524c54,  // "TLRQ"
  // Changes with any change of this file or of snapshot.h's structures: the shim and the writer
  // come from one build, and a writer from another build refuses the request.
  TL_REQUEST_VERSION = 7,
  TL_REQUEST_FD = 3,
  TL_OUTPUT_FD = 4,
  TL_CONTROL_FD = 5,
  TL_REQUEST_MAX_DEPARTED = 64,
  TL_REQUEST_MAX_TOOL_RANGES = 512,
  TL_REQUEST_MAX_ABANDONED = 1024,
};

// Command bytes on the control socket. The writer first sends TL_WRITER_READY once it has read
// the request and the program's modules.
enum {
  TL_WRITER_READY = '+',
  TL_COMMAND_UNWIND = 'U',  // fill the stacks of threads whose unwind.kind is set
  TL_COMMAND_REPORT = 'R',  // symbolize, analyse and write the report to TL_OUTPUT_FD
};

struct tl_report_request {
  uint32_t magic;        // TL_REQUEST_MAGIC
  uint32_t version;      // TL_REQUEST_VERSION
  uint64_t size;         // bytes of the whole request, threads included
  uint32_t struct_size;  // sizeof(struct tl_report_request), checked against the writer's own
  uint32_t thread_size;  // sizeof(struct tl_thread), likewise

  int32_t pid;  // the process the report is about
  // A thread of it that lives until the report is written (the one making it): the writer reads
  // the process through /proc/<reader_tid> and process_vm_readv(reader_tid), which still work
  // when the main thread has exited (a zombie leader has no memory to read).
  int32_t reader_tid;
  uint32_t trigger;
  uint32_t kind;
  int32_t fatal_signal;  // tl_snapshot::fatal_signal
  uint32_t thread_count;
  uint64_t threads_offset;  // from the start of the request
  uint32_t suppression_count;
  uint32_t departed_module_count;
  uint64_t suppressions_offset;
  struct tl_module departed_modules[TL_REQUEST_MAX_DEPARTED];

  // The options the process parsed, whole (threadleak::Options, preload/config/options.h): the
  // writer builds the report configuration from them (handoff/report_config.h), so an option the
  // report needs cannot be left behind on the way. options_size is sizeof(threadleak::Options),
  // checked against the writer's own.
  uint64_t options_offset;
  uint32_t options_size;
  uint32_t reserved_options;

  // For the reachability scan (preload/report/reachability/reachability.h): threadleak's own memory
  // in the program (never a root), and where the reporting thread's frames end on its stack.
  uint32_t tool_memory_count;
  uint32_t tool_memory_complete;  // 0: some of it could not be listed
  uint64_t reporting_stack_from;
  // threadleak's own thread (0: none): its stack holds what it read of the program's threads (a
  // futex word's address, say), so the writer adds that stack's mapping to tool_memory.
  int32_t tool_thread_tid;
  uint32_t reserved_tool;
  struct tl_range tool_memory[TL_REQUEST_MAX_TOOL_RANGES];

  // watchdog_abandoned: the (tid, wait) pairs reports have named so far. The shim keeps them
  // between reports (each has a writer of its own); the writer adds the ones it names.
  uint32_t abandoned_count;
  uint32_t reserved_abandoned;
  struct tl_reported_wait {
    int32_t tid;
    uint32_t reserved;
    uint64_t wait;
  } abandoned[TL_REQUEST_MAX_ABANDONED];

  // 1: only count the leaks (no scan, nothing rendered): the exit check asks whether every
  // thread still alive is suppressed before it waits out the grace period.
  uint32_t count_only;
  uint32_t reserved_count;

  // Written by the writer after TL_COMMAND_REPORT: the threads the report counts as leaked, or
  // -1 when it could not write one.
  int32_t leaks;
  uint32_t reserved;

  // The pthread_t of the thread making the report and of threadleak's own thread (0: none):
  // the writer bounds their stacks by their descriptors' stack blocks (process_layout.h).
  uint64_t reporting_handle;
  uint64_t tool_thread_handle;
};

#ifdef __cplusplus
}
#endif

#endif  // THREADLEAK_PRELOAD_HANDOFF_REPORT_REQUEST_H_
