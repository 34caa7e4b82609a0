// How a dump is asked of a process running under threadleak (preload/triggers/monitor_thread.h):
// find threadleak's own thread, learn the signal it waits for, send it that signal alone with the
// request marker. Shared by threadleak-dump-request and the tests' programs that ask for a dump
// of themselves. Header-only; allocates (not for signal handlers).
#ifndef THREADLEAK_SCRIPTS_DUMP_REQUEST_H_
#define THREADLEAK_SCRIPTS_DUMP_REQUEST_H_

#include <dirent.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "preload/triggers/monitor_thread.h"

namespace threadleak {

struct ToolThread {
  pid_t tid = 0;
  std::string name;  // "threadleak/N" with dumps on, "threadleak" with dumps off
};

inline std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

inline std::optional<ToolThread> FindToolThread(pid_t pid) {
  std::string directory = "/proc/" + std::to_string(pid) + "/task";
  DIR* tasks = opendir(directory.c_str());
  if (tasks == nullptr) return std::nullopt;
  std::optional<ToolThread> found;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string name = ReadLine(directory + "/" + entry->d_name + "/comm");
    if (name == "threadleak" || name.rfind("threadleak/", 0) == 0) {
      found = ToolThread{static_cast<pid_t>(atoi(entry->d_name)), name};
      break;
    }
  }
  closedir(tasks);
  return found;
}

// Whether `process` ("/proc/PID") has the shim loaded.
inline bool LoadsTheShim(const std::string& process) {
  std::ifstream maps(process + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libthreadleak.so") != std::string::npos) return true;
  }
  return false;
}

// Whether the shim is loaded in this process, asked without opening a file: a program asking for
// a dump of itself may have closed its standard streams, and a descriptor opened meanwhile
// would take one of their numbers.
inline bool ShimLoadedHere() {
  bool found = false;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (strstr(info->dlpi_name, "libthreadleak.so") == nullptr) return 0;
        *static_cast<bool*>(data) = true;
        return 1;
      },
      &found);
  return found;
}

// threadleak's thread, waited for up to 5 s: it starts with the program's first thread and
// names itself once it runs, which on a loaded machine can be a while after the program's own
// threads run (a dump asked for then was refused: "no threadleak thread").
inline std::optional<ToolThread> AwaitToolThread(pid_t pid) {
  for (int tries = 0; tries < 500; ++tries) {
    if (std::optional<ToolThread> thread = FindToolThread(pid)) return thread;
    if (kill(pid, 0) != 0 && errno == ESRCH) break;
    usleep(10'000);
  }
  return std::nullopt;
}

// The signal the thread waits for now: the single one its blocked mask lacks, or 0.
inline int AwaitedSignal(pid_t pid, pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:", 0) != 0) continue;
    uint64_t blocked = std::stoull(line.substr(7), nullptr, 16);
    // Never blocked, whatever was asked: SIGKILL and SIGSTOP (the kernel), and glibc's own two
    // real-time signals, 32 and 33 (cancellation and set*id), which sigfillset leaves out.
    uint64_t never_blocked = (uint64_t{1} << (SIGKILL - 1)) | (uint64_t{1} << (SIGSTOP - 1)) |
                             (uint64_t{1} << 31) | (uint64_t{1} << 32);
    uint64_t open = ~blocked & ~never_blocked;
    // A signal the kernel forces on a thread that blocks it (a debugger's SIGTRAP, a fault)
    // stays unblocked afterwards: those are not what the thread waits for.
    uint64_t forced = 0;
    for (int forced_signal : {SIGTRAP, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) {
      forced |= uint64_t{1} << (forced_signal - 1);
    }
    if ((open & (open - 1)) != 0) open &= ~forced;
    if (open == 0 || (open & (open - 1)) != 0) return 0;
    return __builtin_ctzll(open) + 1;
  }
  return 0;
}

// Sends the request; false with errno set if it could not be sent. With `reply_fd` (a descriptor
// of this process, a pipe's write end) the dump is written there too.
inline bool SendDumpRequest(pid_t pid, pid_t tid, int signal,
                            uint32_t reply_fd = kNoReplyDescriptor) {
  siginfo_t info =
      MarkedSignal(signal, EncodeDumpRequest(static_cast<uint32_t>(getpid()), reply_fd));
  return syscall(SYS_rt_tgsigqueueinfo, pid, tid, signal, &info) == 0;
}

// The whole request, for tests (a program asking for a dump of itself, a harness dumping its
// child): false if `pid` has no threadleak thread with dumps on, or it did not get ready within
// 5 s.
inline bool RequestDump(pid_t pid) {
  if (pid == getpid() ? !ShimLoadedHere() : !LoadsTheShim("/proc/" + std::to_string(pid))) {
    return false;
  }
  std::optional<ToolThread> thread = AwaitToolThread(pid);
  if (!thread || thread->name == "threadleak") return false;
  for (int tries = 0; tries < 500; ++tries) {
    if (int signal = AwaitedSignal(pid, thread->tid)) {
      return SendDumpRequest(pid, thread->tid, signal);
    }
    usleep(10'000);
  }
  return false;
}

}  // namespace threadleak

#endif  // THREADLEAK_SCRIPTS_DUMP_REQUEST_H_
