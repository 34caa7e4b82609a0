// What the transparency scenario programs share: the protocol with the harness
// (tests/transparency/harness.h) and the way they print results.
//
// A program runs as PROGRAM MODE TRIGGER_FIFO [ARGS...]. It prints "ready" on stdout once the
// thread under test is about to block; the harness then asks for its dumps and afterwards either
// writes one byte to TRIGGER_FIFO (the program reads it and goes on in the mode's way) or sends a
// signal itself. Everything else the program prints on stdout is a result line that a run under
// threadleak must repeat exactly, so no line may depend on timing, addresses, tids or
// descriptor numbers. Diagnostics go to stderr, which the harness keeps apart.
#ifndef THREADLEAK_TESTS_TRANSPARENCY_PROGRAMS_SCENARIO_H_
#define THREADLEAK_TESTS_TRANSPARENCY_PROGRAMS_SCENARIO_H_

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

namespace scenario {

inline int64_t MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// "EINTR", or "0" for no error (strerrorname_np has no name for 0).
inline std::string ErrnoName(int error) {
  if (error == 0) return "0";
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : std::to_string(error);
}

// One result line, written at once so that nothing can come between its parts.
inline void PrintLine(const std::string& line) {
  printf("%s\n", line.c_str());
  fflush(stdout);
}

inline void Fail(const char* what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(3);
}

// Opens the trigger FIFO without waiting for a writer: O_RDWR never blocks on Linux.
inline int OpenTrigger(const char* path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) Fail("open trigger fifo");
  return fd;
}

// Blocks until the harness writes its byte. A read that the tool cut short is a result too.
inline void AwaitTrigger(int fd) {
  char byte;
  for (;;) {
    errno = 0;
    ssize_t n = read(fd, &byte, 1);
    if (n == 1) return;
    PrintLine("main: trigger read ret=" + std::to_string(n) + " errno=" + ErrnoName(errno));
    if (n == 0 || errno != EINTR) exit(3);
  }
}

// The kernel's scheduling state of thread `tid` of this process ('S' asleep, 'R' running...).
inline char ThreadState(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

// The system call thread `tid` sleeps in, from /proc (-1 when it is in none).
inline long ThreadSyscall(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string first;
  in >> first;
  return first.empty() || first == "running" ? -1 : strtol(first.c_str(), nullptr, 10);
}

// Waits until thread `tid` sleeps in the kernel in system call `number` (any with -1).
inline void AwaitAsleep(pid_t tid, long number) {
  for (int i = 0; i < 10'000; ++i) {
    long current = ThreadSyscall(tid);
    if (ThreadState(tid) == 'S' && current >= 0 && (number < 0 || current == number)) return;
    usleep(1000);
  }
  fprintf(stderr, "thread %d never fell asleep\n", tid);
  exit(3);
}

}  // namespace scenario

#endif  // THREADLEAK_TESTS_TRANSPARENCY_PROGRAMS_SCENARIO_H_
