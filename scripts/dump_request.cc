// threadleak-dump-request: `threadleak dump PID` — asks a process running under threadleak for a
// dump of its threads and prints it.
//
// The request goes to threadleak's own thread in that process alone (rt_tgsigqueueinfo), with a
// marked value, so no thread of the program is interrupted and a signal from anyone else keeps
// its usual effect (preload/triggers/monitor_thread.h). Which signal: the one the thread is waiting
// for (dump_request.h), so whatever set dump_signal (environment, include= file, the program's
// default options) is respected. The value names a pipe of this process, which the dump is
// written to as well as to the process's own log: what is printed is the dump itself, wherever
// the process logs (a file, its stderr, a path set where the environment does not show it).
//
// Usage: threadleak-dump-request PID
// Prints the dump and exits 0. Otherwise one line on stderr and:
//   3  the process has no threadleak thread (not under threadleak, or only its main thread),
//   4  dumps are off in that process (dump_signal=none),
//   5  its threadleak thread did not get ready for a request within 5 s (busy with a report),
//   6  the dump was not finished within 30 s, or the process ended first,
//   1  the request could not be sent (another user's process).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "scripts/dump_request.h"

namespace {

using namespace threadleak;

// Copies what is in the pipe to stdout; false at end of file.
bool Drain(int fd) {
  char buffer[65536];
  ssize_t n = read(fd, buffer, sizeof buffer);
  if (n <= 0) return n < 0 && errno == EINTR;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: threadleak-dump-request PID\n");
    return 2;
  }
  pid_t pid = atoi(argv[1]);
  std::optional<ToolThread> thread = FindToolThread(pid);
  if (!thread) {
    fprintf(stderr, "threadleak: process %d has no threadleak thread\n", pid);
    return 3;
  }
  if (thread->name == "threadleak") {
    fprintf(stderr, "threadleak: process %d has dumps off (dump_signal=none)\n", pid);
    return 4;
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
    fprintf(stderr, "threadleak: the threadleak thread of process %d is not ready for a request\n",
            pid);
    return 5;
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    perror("threadleak: pipe");
    return 1;
  }
  const std::string before = CountAfter(ReadLine(comm));  // the count before this request
  if (!SendDumpRequest(pid, thread->tid, signal, static_cast<uint32_t>(pipe_fds[1]))) {
    fprintf(stderr, "threadleak: cannot send the dump request to process %d: %s\n", pid,
            strerror(errno));
    return 1;
  }
  // Read while the dump is written (a pipe holds 64 KiB); once the thread's name says it is
  // done, the write end is closed here too and what is left is read to its end.
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool done = false;
  for (;;) {
    pollfd readable = {pipe_fds[0], POLLIN, 0};
    if (poll(&readable, 1, 20) > 0 && !Drain(pipe_fds[0])) break;
    if (!done) {
      std::string now = CountAfter(ReadLine(comm));
      if (now.empty() || now != before) {
        done = !now.empty();
        close(pipe_fds[1]);  // the process closed its own end when the dump was written
        if (!done) break;
        continue;
      }
      timespec clock;
      clock_gettime(CLOCK_MONOTONIC, &clock);
      if (clock.tv_sec - start.tv_sec > 30) break;
    }
  }
  if (!done) {
    fprintf(stderr, "threadleak: process %d wrote no dump (it ended, or took more than 30 s)\n",
            pid);
    return 6;
  }
  return 0;
}
