// Helpers shared by the end-to-end test programs (not by the harness).
//
// The programs leak threads on purpose. To make a report deterministic, a program waits until
// each leaked thread is really blocked in the call it should be reported in, using the kernel's
// view of the thread (/proc/self/task/TID/syscall), never a sleep.
#ifndef THREADLEAK_TESTS_E2E_PROGRAMS_COMMON_H_
#define THREADLEAK_TESTS_E2E_PROGRAMS_COMMON_H_

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

// A function the tests look for in a stack. Pair it with E2E_KEEP_FRAME() after the interesting
// call, so the call is not a tail call and the function keeps its frame.
#define E2E_NOINLINE __attribute__((noinline))
#define E2E_KEEP_FRAME() asm volatile("" ::: "memory")

namespace e2e {

enum class Variant { kLeak, kFixed };

// Prints to stderr and exits with status 2: the harness reads 2 as "the program itself failed".
[[noreturn]] inline void Die(const std::string& why) {
  std::fprintf(stderr, "e2e program: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

inline bool ParseVariant(const char* arg, Variant* out) {
  const std::string s = arg;
  if (s == "leak") *out = Variant::kLeak;
  if (s == "fixed") *out = Variant::kFixed;
  return s == "leak" || s == "fixed";
}

inline int CurrentTid() {
  return static_cast<int>(::gettid());
}

// Names the calling thread (at most 15 characters), so reports are easy to read.
inline void NameThisThread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

// The system call thread `tid` of this process is blocked in (/proc/self/task/TID/syscall):
// its number, -1 while it runs (or when it is gone), and its first argument (a futex wait's word).
struct BlockedCall {
  long number = -1;
  unsigned long first_argument = 0;
};
inline BlockedCall BlockedIn(int tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string number, argument;
  BlockedCall call;
  if (!(in >> number) || number == "running") return call;
  call.number = std::strtol(number.c_str(), nullptr, 10);
  if (in >> argument) call.first_argument = std::strtoul(argument.c_str(), nullptr, 16);
  return call;
}

inline long BlockedSyscall(int tid) {
  return BlockedIn(tid).number;
}

// Waits until the thread that published its tid in `tid` sits in syscall `nr` (e.g. SYS_futex
// for a condvar, a mutex, a join; SYS_read; SYS_clock_nanosleep). The thread must publish its
// tid right before the blocking call, with nothing else that could block in between. Gives up
// (exit 2) after 10 s: a program that never gets there is broken.
inline void WaitUntilBlockedIn(const std::atomic<int>& tid, long nr) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    const int t = tid.load();
    if (t != 0 && BlockedSyscall(t) == nr) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Die("thread " + std::to_string(tid.load()) + " never blocked in syscall " + std::to_string(nr));
}

// Waits until the thread that published its tid in `tid` has ended (its task is gone), e.g. a
// joinable thread that returned and that nobody joins.
inline void WaitUntilGone(const std::atomic<int>& tid) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    const int t = tid.load();
    if (t != 0 && access(("/proc/self/task/" + std::to_string(t)).c_str(), F_OK) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  Die("thread " + std::to_string(tid.load()) + " never ended");
}

// Leak variants leave the thread running (a Go-style `go` statement); fixed variants join it.
inline void Release(std::thread& t, Variant v) {
  if (v == Variant::kLeak) {
    t.detach();
  } else {
    t.join();
  }
}

}  // namespace e2e

#endif  // THREADLEAK_TESTS_E2E_PROGRAMS_COMMON_H_
