#include "preload/handoff/report_writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <new>

#include "preload/capture/departed_modules.h"
#include "preload/capture/unwinder.h"
#include "preload/config/options.h"
#include "preload/config/suppressions.h"
#include "preload/core/clock.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/tool_thread.h"
#include "preload/io/fixed_buffer.h"

extern char** environ;

namespace threadleak {
namespace {

constexpr char kWriterName[] = "threadleak-write-report";
// How long the writer may take for one step. Symbolizing a large program with debuginfod
// downloads can take long; a writer stuck longer is killed and the plain report written.
constexpr int64_t kExchangeLimitNs = 120'000'000'000;
constexpr size_t kChildStackBytes = 64 * 1024;
constexpr size_t kMaxEnvironment = 4096;  // entries passed on; the rest are dropped

constinit char g_writer_path[4096] = {};
// NoteReportStack's range; read by any thread's report (a dying thread's dump ends it).
constinit std::atomic<uint64_t> g_report_stack_start{0};
constinit std::atomic<uint64_t> g_report_stack_end{0};
// The writer of the report being made (the report lock serializes them), for a fork child.
constinit ReportWriter* g_active = nullptr;
// watchdog_abandoned: the waits reports have named (report_request.h), under the report lock.
constinit tl_report_request::tl_reported_wait g_abandoned[TL_REQUEST_MAX_ABANDONED] = {};
constinit uint32_t g_abandoned_count = 0;

long Sys(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  return Real().syscall(number, a, b, c, d, e, f);
}

size_t AlignUp(size_t value, size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

// What the children need, in memory of its own (the spawn memory, which also holds their
// stacks): the intermediate child shares it with the program until the shim has reaped it.
struct SpawnArgs {
  const char* path;
  char* const* argv;
  char* const* envp;
  int fds[3];          // become TL_REQUEST_FD, TL_OUTPUT_FD, TL_CONTROL_FD
  char* writer_stack;  // the top of the writer's stack until it execs
  int exec_errno;      // written by a child when the writer cannot start
  pid_t writer_pid;    // written by the intermediate child
  pid_t program_pid;   // the intermediate child's parent
  // The intermediate child's progress (a futex word): kSpawning, then kWriterStarted once the
  // writer has exec'd (or failed to), then kWriterEnded once it has ended — not yet reaped, so
  // its pid stays its own and the shim may still kill it.
  std::atomic<uint32_t> progress;
  std::atomic<uint32_t> reap;  // a futex word: 1 when the shim lets the intermediate child reap
};

namespace {

enum : uint32_t { kSpawning, kWriterStarted, kWriterEnded };

// The writer is the program's grandchild: the kernel sets the exit signal of any process that
// execs to SIGCHLD, so a child that execs would send the program a SIGCHLD it never asked for
// (and a signal thread in sigwaitinfo would see it). The intermediate child, which never execs,
// has no exit signal, and it stays the writer's parent until the shim has reaped it: an orphaned
// writer would go to the nearest subreaper, which may be the program itself (a supervisor, a
// container's init) — its SIGCHLD and its wait(-1) would see the writer end.
//
// The intermediate child shares the program's memory and the thread-local storage of the thread
// making the report (no TLS of its own): system calls only, which write errno only when they
// fail, and its signals stay blocked.
int WriterMain(void* opaque);

void WaitWhile(std::atomic<uint32_t>* word, uint32_t value, const timespec* timeout) {
  while (word->load(std::memory_order_acquire) == value) {
    if (Sys(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAIT, value,
            reinterpret_cast<long>(timeout)) != 0 &&
        timeout != nullptr && errno == ETIMEDOUT) {
      return;
    }
  }
}

void Publish(std::atomic<uint32_t>* word, uint32_t value) {
  word->store(value, std::memory_order_release);
  Sys(SYS_futex, reinterpret_cast<long>(word), FUTEX_WAKE, INT32_MAX);
}

int IntermediateMain(void* opaque) {
  auto* args = static_cast<SpawnArgs*>(opaque);
  // The program killed in the middle of a report takes this child with it (it would wait for
  // the shim's word for good, keeping the program's memory): the death of the thread that
  // started it kills it.
  Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (Sys(SYS_getppid) != args->program_pid) Sys(SYS_exit, 0);
  const pid_t pid = clone(WriterMain, args->writer_stack, CLONE_VM | CLONE_VFORK, args);
  if (pid <= 0 && args->exec_errno == 0) args->exec_errno = EAGAIN;
  args->writer_pid = pid;
  // Nothing of the program's is this child's to hold (a pipe's write end would keep its reader
  // waiting), and the writer must see the end of file when the shim closes its socket.
  if (Sys(SYS_close_range, 0, ~0u, 0) != 0) {
    for (int fd : args->fds) Sys(SYS_close, fd);
  }
  Publish(&args->progress, kWriterStarted);
  if (pid > 0) {
    siginfo_t info;
    while (Sys(SYS_waitid, P_PID, pid, reinterpret_cast<long>(&info), WEXITED | WNOWAIT | __WALL,
               0) != 0 &&
           errno == EINTR) {
    }
  }
  Publish(&args->progress, kWriterEnded);
  WaitWhile(&args->reap, 0, nullptr);
  if (pid > 0) {
    int status;
    Sys(SYS_wait4, pid, reinterpret_cast<long>(&status), __WALL, 0);
  }
  Sys(SYS_exit, 0);
  return 0;
}

// Runs in the writer before its exec, on a stack of its own, sharing the program's memory (the
// intermediate child is suspended until the exec): system calls only. errno is that of the
// thread making the report (same TLS).
int WriterMain(void* opaque) {
  auto* args = static_cast<SpawnArgs*>(opaque);
  int high[3];
  // Moved out of the way first: a source may itself be 3, 4 or 5.
  for (int i = 0; i < 3; ++i) {
    high[i] = static_cast<int>(Sys(SYS_fcntl, args->fds[i], F_DUPFD, 10));
    if (high[i] < 0) {
      args->exec_errno = errno;
      Sys(SYS_exit, 127);
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (Sys(SYS_dup2, high[i], TL_REQUEST_FD + i) < 0) {
      args->exec_errno = errno;
      Sys(SYS_exit, 127);
    }
  }
  // The standard streams on /dev/null before the exec: what the loader says when it cannot
  // load the writer (a library of the program's LD_LIBRARY_PATH that does not fit it, LD_DEBUG)
  // must not land in the program's output.
  const long null = Sys(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"), O_RDWR);
  if (null >= 0) {
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
      if (fd != null) Sys(SYS_dup2, null, fd);
    }
    if (null > STDERR_FILENO) Sys(SYS_close, null);
  }
  Sys(SYS_execve, reinterpret_cast<long>(args->path), reinterpret_cast<long>(args->argv),
      reinterpret_cast<long>(args->envp));
  args->exec_errno = errno != 0 ? errno : ENOEXEC;
  Sys(SYS_exit, 127);
  return 127;
}

// A program that closed its standard streams gets EBADF writing to them; a descriptor of ours
// there would take its writes (and hand its reads our data) while the report is made.
int AboveStandardStreams(int fd) {
  if (fd < 0 || fd > STDERR_FILENO) return fd;
  const int moved = static_cast<int>(Sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
  Sys(SYS_close, fd);
  return moved;
}

bool StartsWith(const char* text, const char* prefix) {
  return strncmp(text, prefix, strlen(prefix)) == 0;
}

// Yama's ptrace_scope 1 (Debian's and Ubuntu's default where Yama is built in) lets a process
// read only its descendants' memory; the writer reads its parent's, so the parent names it.
bool YamaRestrictsToDescendants() {
  int fd = static_cast<int>(Sys(SYS_openat, AT_FDCWD,
                                reinterpret_cast<long>("/proc/sys/kernel/yama/ptrace_scope"),
                                O_RDONLY | O_CLOEXEC));
  if (fd < 0) return false;
  char value[8] = {};
  long n = Sys(SYS_read, fd, reinterpret_cast<long>(value), sizeof value - 1);
  Sys(SYS_close, fd);
  return n > 0 && value[0] == '1';
}

}  // namespace

void NoteReportStack(uintptr_t start, uintptr_t end) {
  g_report_stack_start.store(start, std::memory_order_relaxed);
  g_report_stack_end.store(end, std::memory_order_relaxed);
}

void InitReportWriter() {
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&InitReportWriter), &self) == 0 || self.dli_fname == nullptr)
    return;
  const char* slash = strrchr(self.dli_fname, '/');
  FixedBuffer<sizeof g_writer_path> path;
  if (slash != nullptr) path.Append(std::string_view(self.dli_fname, slash + 1 - self.dli_fname));
  path.Append(kWriterName);
  if (path.size() + 1 < sizeof g_writer_path) memcpy(g_writer_path, path.c_str(), path.size() + 1);
}

void CloseReportWriterAfterFork() {
  ReportWriter* writer = g_active;
  if (writer == nullptr) return;
  g_active = nullptr;
  for (int* fd : {&writer->request_fd_, &writer->output_fd_, &writer->control_fd_}) {
    if (*fd >= 0) Sys(SYS_close, *fd);
    *fd = -1;
  }
  writer->pid_ = -1;
  writer->ptracer_set_ = false;
  // The intermediate child is the parent's, and so is its memory's use.
  writer->intermediate_ = -1;
  writer->spawn_memory_ = nullptr;
  writer->spawn_args_ = nullptr;
}

void ReportWriter::ReapChildren() {
  if (intermediate_ > 0) {
    SpawnArgs* args = spawn_args_;
    // A writer that does not end within a second of the end of file (stopped, or stuck) is
    // killed: it is not reaped before the release below, so its pid is still its own.
    const timespec second{1, 0};
    WaitWhile(&args->progress, kWriterStarted, &second);
    if (args->progress.load(std::memory_order_acquire) != kWriterEnded && pid_ > 0) {
      Sys(SYS_kill, pid_, SIGKILL);
      WaitWhile(&args->progress, kWriterStarted, nullptr);
    }
    Publish(&args->reap, 1);
    int status;
    while (Sys(SYS_wait4, intermediate_, reinterpret_cast<long>(&status), __WCLONE, 0) < 0 &&
           errno == EINTR) {
    }
    intermediate_ = -1;
  }
  pid_ = -1;
  if (spawn_memory_ != nullptr) munmap(spawn_memory_, spawn_bytes_);
  spawn_memory_ = nullptr;
  spawn_args_ = nullptr;
}

void ReportWriter::Fail(const char* why) {
  error_ = why;
  if (pid_ > 0) Sys(SYS_kill, pid_, SIGKILL);
  if (control_fd_ >= 0) Sys(SYS_close, control_fd_);
  control_fd_ = -1;
}

bool ReportWriter::Start(uint32_t trigger, uint32_t kind, size_t count, const void* list,
                         size_t list_bytes, uintptr_t reporting_stack_from, int fatal_signal) {
  if (g_writer_path[0] == '\0') {
    error_ = "cannot locate libthreadleak.so's directory";
    return false;
  }
  const SuppressionTable& suppressions = GlobalSuppressions();
  const size_t options_offset = AlignUp(sizeof(tl_report_request), 64);
  const size_t suppressions_offset = AlignUp(options_offset + sizeof(Options), 64);
  const size_t threads_offset =
      AlignUp(suppressions_offset + sizeof(tl_suppression) * suppressions.count, 64);
  request_bytes_ = threads_offset + sizeof(tl_thread) * count;

  g_active = this;
  request_fd_ = AboveStandardStreams(static_cast<int>(
      Sys(SYS_memfd_create, reinterpret_cast<long>("threadleak-request"), MFD_CLOEXEC)));
  output_fd_ = AboveStandardStreams(static_cast<int>(
      Sys(SYS_memfd_create, reinterpret_cast<long>("threadleak-report"), MFD_CLOEXEC)));
  if (request_fd_ < 0 || output_fd_ < 0 ||
      Sys(SYS_ftruncate, request_fd_, static_cast<long>(request_bytes_)) != 0) {
    error_ = "cannot create its memory file";
    return false;
  }
  void* memory = mmap(nullptr, request_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, request_fd_, 0);
  if (memory == MAP_FAILED) {
    error_ = "cannot map its memory file";
    return false;
  }
  request_ = static_cast<tl_report_request*>(memory);  // zero-filled by ftruncate
  tl_report_request& request = *request_;
  request.magic = TL_REQUEST_MAGIC;
  request.version = TL_REQUEST_VERSION;
  request.size = request_bytes_;
  request.struct_size = sizeof(tl_report_request);
  request.thread_size = sizeof(tl_thread);
  request.pid = static_cast<int32_t>(getpid());
  request.reader_tid = static_cast<int32_t>(gettid());
  request.trigger = trigger;
  request.kind = kind;
  request.fatal_signal = fatal_signal;
  request.thread_count = static_cast<uint32_t>(count);
  request.threads_offset = threads_offset;
  request.suppressions_offset = suppressions_offset;
  request.suppression_count = static_cast<uint32_t>(suppressions.count);
  memcpy(reinterpret_cast<char*>(request_) + suppressions_offset, suppressions.rules,
         sizeof(tl_suppression) * suppressions.count);
  request.departed_module_count =
      static_cast<uint32_t>(CopyDepartedModules(request.departed_modules, TL_REQUEST_MAX_DEPARTED));
  // Every option, as parsed: the writer takes what the report needs (handoff/report_config.h).
  request.options_offset = options_offset;
  request.options_size = sizeof(Options);
  memcpy(reinterpret_cast<char*>(request_) + options_offset, &GlobalOptions(), sizeof(Options));
  request.leaks = -1;
  // What the reachability scan must know of threadleak itself: the registry's chunks, the
  // collected threads and this request (whose copies of wait slots point at the program's
  // objects), and the report's own frames.
  size_t chunks = 0;
  constexpr size_t kUnwinderRanges = 2;
  // After the chunks: the unwinder's data, the report's own stack, the list, this request, the
  // children's stacks (Start below) and the monitor's stack (the writer adds it).
  const bool complete = ListRegistryChunks(
      request.tool_memory, TL_REQUEST_MAX_TOOL_RANGES - 5 - kUnwinderRanges, &chunks);
  chunks += UnwinderDataIfOwned(&request.tool_memory[chunks], kUnwinderRanges);
  // Read end, then start, each as set: a range being set or cleared meanwhile reads as none.
  const uint64_t stack_end = g_report_stack_end.load(std::memory_order_relaxed);
  const uint64_t stack_start = g_report_stack_start.load(std::memory_order_relaxed);
  if (stack_start != 0 && stack_end > stack_start) {
    request.tool_memory[chunks++] = {stack_start, stack_end};
  }
  request.tool_thread_tid = ToolThreadTid();
  const auto list_start = reinterpret_cast<uintptr_t>(list);
  request.tool_memory[chunks++] = {list_start, list_start + ((list_bytes + 4095) & ~size_t{4095})};
  const auto request_start = reinterpret_cast<uintptr_t>(request_);
  request.tool_memory[chunks++] = {request_start,
                                   request_start + ((request_bytes_ + 4095) & ~size_t{4095})};
  request.tool_memory_count = static_cast<uint32_t>(chunks);
  request.tool_memory_complete = complete ? 1 : 0;
  request.reporting_stack_from = reporting_stack_from;
  request.reporting_handle = reinterpret_cast<uintptr_t>(pthread_self());
  request.tool_thread_handle = ToolThreadHandle();
  request.abandoned_count = g_abandoned_count;
  memcpy(request.abandoned, g_abandoned, sizeof(g_abandoned[0]) * g_abandoned_count);

  int sockets[2];
  if (Sys(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
          reinterpret_cast<long>(sockets)) != 0) {
    error_ = "cannot create its socket";
    return false;
  }
  sockets[0] = AboveStandardStreams(sockets[0]);
  sockets[1] = AboveStandardStreams(sockets[1]);
  if (sockets[0] < 0 || sockets[1] < 0) {
    if (sockets[0] >= 0) Sys(SYS_close, sockets[0]);
    if (sockets[1] >= 0) Sys(SYS_close, sockets[1]);
    error_ = "cannot create its socket";
    return false;
  }
  control_fd_ = sockets[0];

  // The children's stacks and arguments, then the writer's environment: the program's, less
  // what would load anything into the writer (it must not run the shim itself, nor a preloaded
  // allocator).
  size_t environment_count = 0;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) ++environment_count;
  environment_count = std::min(environment_count, kMaxEnvironment);
  const size_t args_offset = 2 * kChildStackBytes;
  const size_t envp_offset = args_offset + AlignUp(sizeof(SpawnArgs), 64);
  spawn_bytes_ = envp_offset + sizeof(char*) * (environment_count + 1);
  void* spawn_memory = mmap(nullptr, spawn_bytes_, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (spawn_memory == MAP_FAILED) {
    Sys(SYS_close, sockets[1]);
    error_ = "cannot map its stack";
    return false;
  }
  spawn_memory_ = static_cast<char*>(spawn_memory);
  // The children's stacks hold what the registers held when they started: never a root of the
  // reachability scan.
  const auto spawn_start = reinterpret_cast<uintptr_t>(spawn_memory_);
  request_->tool_memory[request_->tool_memory_count++] = {
      spawn_start, spawn_start + ((spawn_bytes_ + 4095) & ~size_t{4095})};
  auto** envp = reinterpret_cast<char**>(spawn_memory_ + envp_offset);
  size_t kept = 0;
  for (size_t i = 0; i < environment_count && environ[i] != nullptr; ++i) {
    if (StartsWith(environ[i], "LD_PRELOAD=") || StartsWith(environ[i], "LD_AUDIT=")) continue;
    envp[kept++] = environ[i];
  }
  envp[kept] = nullptr;
  static char* const argv[] = {const_cast<char*>(kWriterName), nullptr};
  auto* args = new (spawn_memory_ + args_offset) SpawnArgs{};
  args->path = g_writer_path;
  args->argv = argv;
  args->envp = envp;
  args->fds[0] = request_fd_;
  args->fds[1] = output_fd_;
  args->fds[2] = sockets[1];
  args->writer_stack = spawn_memory_ + 2 * kChildStackBytes;
  args->writer_pid = -1;
  args->program_pid = getpid();
  spawn_args_ = args;

  // Every signal blocked in the children: no handler of the program may run on their stacks
  // with the program's memory. The writer unblocks them itself after its exec.
  sigset_t all, previous;
  sigfillset(&all);
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&all),
      reinterpret_cast<long>(&previous), _NSIG / 8);
  // No exit signal for the intermediate child: the program gets no SIGCHLD, and its wait(-1)
  // cannot take it (only __WCLONE or __WALL waits see it).
  intermediate_ = clone(IntermediateMain, spawn_memory_ + kChildStackBytes, CLONE_VM, args);
  Sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&previous), 0, _NSIG / 8);
  Sys(SYS_close, sockets[1]);
  if (intermediate_ <= 0) {
    intermediate_ = -1;
    error_ = "cannot start a process";
    return false;
  }
  // Until the writer has exec'd; a child killed meanwhile (the OOM killer) ends the wait.
  const timespec tick{0, 100'000'000};
  while (args->progress.load(std::memory_order_acquire) == kSpawning) {
    WaitWhile(&args->progress, kSpawning, &tick);
    int status;
    if (args->progress.load(std::memory_order_acquire) == kSpawning &&
        Sys(SYS_wait4, intermediate_, reinterpret_cast<long>(&status), __WCLONE | WNOHANG, 0) ==
            intermediate_) {
      intermediate_ = -1;
      error_ = "cannot start a process";
      return false;
    }
  }
  pid_ = args->writer_pid;
  if (pid_ <= 0) {
    pid_ = -1;
    error_ =
        args->exec_errno == EAGAIN ? "cannot start a process (EAGAIN)" : "cannot start a process";
    return false;
  }
  if (args->exec_errno != 0) {
    Fail(args->exec_errno == ENOENT ? "threadleak-write-report not found next to libthreadleak.so"
                                    : "cannot execute threadleak-write-report");
    return false;
  }
  if (YamaRestrictsToDescendants()) {
    ptracer_set_ = Sys(SYS_prctl, PR_SET_PTRACER, pid_, 0, 0, 0) == 0;
  }
  if (!AwaitAnswer(TL_WRITER_READY)) return false;
  error_ = nullptr;
  return true;
}

bool ReportWriter::Exchange(char command) {
  if (control_fd_ < 0) return false;
  if (Sys(SYS_sendto, control_fd_, reinterpret_cast<long>(&command), 1, MSG_NOSIGNAL, 0, 0) != 1) {
    Fail("it ended early");
    return false;
  }
  return AwaitAnswer(command | 0x20);
}

bool ReportWriter::AwaitAnswer(char expected) {
  const int64_t deadline = MonotonicNanos() + kExchangeLimitNs;
  for (;;) {
    int64_t left = deadline - MonotonicNanos();
    if (left <= 0) {
      Fail("it took too long");
      return false;
    }
    pollfd ready{control_fd_, POLLIN, 0};
    timespec wait{static_cast<time_t>(left / 1'000'000'000),
                  static_cast<long>(left % 1'000'000'000)};
    long n = Sys(SYS_ppoll, reinterpret_cast<long>(&ready), 1, reinterpret_cast<long>(&wait), 0, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;  // timed out: the deadline check ends it
    char answer = 0;
    n = Sys(SYS_read, control_fd_, reinterpret_cast<long>(&answer), 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && answer == expected) return true;
    Fail("it failed");
    return false;
  }
}

bool ReportWriter::Unwind(tl_thread* threads, size_t count) {
  if (request_ == nullptr || count != request_->thread_count) return false;
  tl_thread* shared =
      reinterpret_cast<tl_thread*>(reinterpret_cast<char*>(request_) + request_->threads_offset);
  memcpy(shared, threads, sizeof(tl_thread) * count);
  if (!Exchange(TL_COMMAND_UNWIND)) return false;
  memcpy(threads, shared, sizeof(tl_thread) * count);
  return true;
}

int ReportWriter::CountLeaks(const tl_thread* threads, size_t count) {
  if (request_ == nullptr) return -1;
  request_->count_only = 1;
  return Render(threads, count);
}

int ReportWriter::Render(const tl_thread* threads, size_t count) {
  if (request_ == nullptr || count != request_->thread_count) return -1;
  tl_thread* shared =
      reinterpret_cast<tl_thread*>(reinterpret_cast<char*>(request_) + request_->threads_offset);
  memcpy(shared, threads, sizeof(tl_thread) * count);
  if (!Exchange(TL_COMMAND_REPORT)) return -1;
  const int leaks = request_->leaks;
  // The waits named by watchdog_abandoned reports so far, kept for the next report.
  g_abandoned_count = std::min<uint32_t>(request_->abandoned_count, TL_REQUEST_MAX_ABANDONED);
  memcpy(g_abandoned, request_->abandoned, sizeof(g_abandoned[0]) * g_abandoned_count);
  if (leaks < 0) {
    error_ = "it could not write the report";
    return -1;
  }
  struct stat info;
  if (Sys(SYS_fstat, output_fd_, reinterpret_cast<long>(&info)) != 0) return -1;
  if (info.st_size > 0) {
    void* memory =
        mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_SHARED, output_fd_, 0);
    if (memory == MAP_FAILED) return -1;
    output_ = static_cast<const char*>(memory);
    output_size_ = static_cast<size_t>(info.st_size);
  }
  return leaks;
}

ReportWriter::~ReportWriter() {
  const int saved_errno = errno;
  if (g_active == this) g_active = nullptr;
  if (output_ != nullptr) munmap(const_cast<char*>(output_), output_size_);
  // The writer reads the end of file and exits; its parent, the intermediate child, reaps it
  // once told, and this process reaps that one.
  if (control_fd_ >= 0) Sys(SYS_close, control_fd_);
  control_fd_ = -1;
  ReapChildren();
  if (ptracer_set_) Sys(SYS_prctl, PR_SET_PTRACER, 0, 0, 0, 0);
  if (request_ != nullptr) munmap(request_, request_bytes_);
  if (request_fd_ >= 0) Sys(SYS_close, request_fd_);
  if (output_fd_ >= 0) Sys(SYS_close, output_fd_);
  errno = saved_errno;
}

}  // namespace threadleak
