// threadleak-dump-request: `threadleak dump PID` (threadleak-launch execs it) — asks a process
// running under threadleak for a dump of its threads and prints it.
//
// The request goes to threadleak's own thread in that process alone (rt_tgsigqueueinfo), with a
// marked value, so no thread of the program is interrupted and a signal from anyone else keeps
// its usual effect (preload/triggers/monitor_thread.h). Which signal: the one the thread is waiting
// for (dump_request.h), so whatever set dump_signal (environment, include= file, the program's
// default options) is respected: nothing here reads options, this process's or PID's. The value
// names a pipe of this process, which the dump is written to as well as to the process's own
// log: what is printed is the dump itself, wherever the process logs (a file, its stderr, a path
// set where the environment does not show it).
//
// Usage: threadleak-dump-request PID
// Prints the dump and exits 0; exits 0 too, saying so, when PID has only its main thread (no
// thread of its own, so nothing can leak, and threadleak's thread starts with the first one).
// Otherwise one line on stderr and status 2: PID is not a process id, there is no such process,
// it is another user's, it does not run under threadleak, it has dumps off, its threadleak
// thread did not get ready for a request within 5 s (busy with a report), or no dump came
// within 30 s (the process ended first).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scripts/dump_request.h"

namespace {

using namespace threadleak;

// Copies what is in the pipe to stdout, counting it in `copied`; false at end of file.
bool Drain(int fd, size_t* copied) {
  char buffer[65536];
  ssize_t n = read(fd, buffer, sizeof buffer);
  if (n <= 0) return n < 0 && errno == EINTR;
  *copied += static_cast<size_t>(n);
  for (ssize_t written = 0; written < n;) {
    ssize_t w = write(STDOUT_FILENO, buffer + written, static_cast<size_t>(n - written));
    if (w <= 0) return false;
    written += w;
  }
  return true;
}

std::string CountAfter(const std::string& name) {
  size_t slash = name.find('/');
  return slash == std::string::npos ? "" : name.substr(slash + 1);
}

constexpr int kRefused = 2;

[[noreturn]] void Refuse(const std::string& why) {
  fprintf(stderr, "threadleak: error: dump: %s\n", why.c_str());
  exit(kRefused);
}

size_t CountThreads(const std::string& process) {
  std::error_code error;
  size_t count = 0;
  for (auto it = std::filesystem::directory_iterator(process + "/task", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

// The file-system user and group ids in `process`'s status (what its open() is checked as), or
// -1.
struct Identity {
  long uid = -1;
  long gid = -1;
  bool single = true;  // real, effective, saved and file-system ids all the same
};
Identity FileSystemIdentity(const std::string& process) {
  std::ifstream status(process + "/status");
  Identity identity;
  std::string line;
  while (std::getline(status, line)) {
    long ids[4];
    const bool uid = line.rfind("Uid:", 0) == 0, gid = line.rfind("Gid:", 0) == 0;
    if ((!uid && !gid) ||
        sscanf(line.c_str() + 4, "%ld %ld %ld %ld", &ids[0], &ids[1], &ids[2], &ids[3]) != 4) {
      continue;
    }
    (uid ? identity.uid : identity.gid) = ids[3];
    identity.single = identity.single && ids[0] == ids[3] && ids[1] == ids[3] && ids[2] == ids[3];
  }
  return identity;
}

// The process opens this one's pipe through /proc/<this pid>/fd/N, which the kernel allows only
// to a process of the same user as this one (and this one dumpable), and the pipe only to its
// owner. Asked by root for another user's process — a server that gave up root for `nobody` —
// this process becomes that user before it makes the pipe: else the dump went only to the
// process's own log, and nothing came here. Only for a process that is wholly another user's:
// one that changed only its effective user (seteuid) may be signalled by root alone, and the
// request must still reach it. If the change is refused (root without CAP_SETUID, a user
// namespace), the request goes as it is and the dump reaches the process's own log: main says
// so. Returns whether it became that user.
bool BecomeUserOf(const std::string& process) {
  if (geteuid() != 0) return false;
  const Identity target = FileSystemIdentity(process);
  if (target.uid <= 0 || target.gid < 0 || !target.single) return false;
  const auto uid = static_cast<uid_t>(target.uid);
  const auto gid = static_cast<gid_t>(target.gid);
  if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 ||
      setresuid(uid, uid, uid) != 0) {
    return false;
  }
  prctl(PR_SET_DUMPABLE, 1);  // a change of user clears it, and /proc/<pid>/fd needs it
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "threadleak: error: usage: threadleak dump PID\n");
    return kRefused;
  }
  const std::string text = argv[1];
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    Refuse("'" + text + "' is not a process id");
  }
  const pid_t pid = static_cast<pid_t>(std::stol(text));
  const std::string process = "/proc/" + std::to_string(pid);
  struct stat info;
  if (pid <= 0 || stat(process.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    Refuse("there is no process " + text);
  }
  if (kill(pid, 0) != 0 && errno == EPERM) {
    Refuse("process " + text + " belongs to another user; run as that user");
  }
  if (!LoadsTheShim(process)) {
    Refuse("process " + text + " does not run under threadleak (libthreadleak.so is not loaded)");
  }
  // threadleak's thread starts with the program's first thread: until then glibc keeps its
  // single-thread fast paths. A lone main thread is no leak, so there is nothing to show.
  std::optional<ToolThread> thread = FindToolThread(pid);
  if (!thread && CountThreads(process) == 1) {
    fprintf(stderr, "threadleak: process %d has only its main thread: nothing to dump\n", pid);
    return 0;
  }
  if (!thread) thread = AwaitToolThread(pid);
  if (!thread) Refuse("process " + text + " has no threadleak thread");
  if (thread->name == "threadleak") {
    Refuse("process " + text + " has dumps off (dump_signal=none, or a value it cannot use)");
  }
  const std::string comm =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(thread->tid) + "/comm";
  // Between reports the thread waits for the signal; during one, every signal is blocked.
  int signal = 0;
  for (int tries = 0; tries < 500 && signal == 0; ++tries) {
    signal = AwaitedSignal(pid, thread->tid);
    if (signal == 0) usleep(10'000);
  }
  if (signal == 0) {
    Refuse("the threadleak thread of process " + text + " is not ready for a request");
  }
  BecomeUserOf(process);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    Refuse(std::string("cannot make a pipe: ") + strerror(errno));
  const std::string before = CountAfter(ReadLine(comm));  // the count before this request
  if (!SendDumpRequest(pid, thread->tid, signal, static_cast<uint32_t>(pipe_fds[1]))) {
    Refuse("cannot send the request to process " + text + ": " + strerror(errno));
  }
  // Read while the dump is written (a pipe holds 64 KiB); once the thread's name says it is
  // done, or the process has ended, the write end is closed here too and what is left is read to
  // its end. A process that ends just after its dump (an nginx worker after a reload) has written
  // it whole: its thread was not renamed in time, but the dump is there.
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool done = false, ended = false;
  size_t copied = 0;
  for (;;) {
    pollfd readable = {pipe_fds[0], POLLIN, 0};
    // Once done, the whole dump is in the pipe (the process closed its end before its thread
    // was renamed): read what is there, without waiting for the end of the file, which a child
    // the program forked during the dump can hold off for as long as it keeps the descriptor.
    const int ready = poll(&readable, 1, done ? 0 : 20);
    if (ready > 0 && !Drain(pipe_fds[0], &copied)) break;
    if (done) {
      if (ready == 0) break;
      continue;
    }
    timespec clock;
    clock_gettime(CLOCK_MONOTONIC, &clock);
    if (clock.tv_sec - start.tv_sec > 30) break;
    if (ended) continue;
    std::string now = CountAfter(ReadLine(comm));
    if (now.empty() || now != before) {
      done = !now.empty();
      ended = now.empty();
      close(pipe_fds[1]);  // the process closed its own end when the dump was written
    }
  }
  if (!done && copied == 0) {
    Refuse("process " + text + " wrote no dump (it ended, or took more than 30 s)");
  }
  if (!done) {
    fprintf(stderr,
            "threadleak: process %d ended before saying its dump was done: the dump above is what "
            "it wrote\n",
            pid);
    return 0;
  }
  if (copied == 0) {
    // It made the dump but could not open this process's pipe: another user's process that
    // this one could still signal, or one in another PID namespace (a container).
    Refuse("process " + text +
           " wrote its dump to its own log only: it could not open this process's pipe (it "
           "runs as another user, or in another PID namespace); run threadleak dump as its user, "
           "in its namespace");
  }
  return 0;
}
