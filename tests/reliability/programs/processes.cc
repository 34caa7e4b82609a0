// Item 1 of issue 8: processes. fork while other threads are inside the tool, fork from a
// non-main thread, and children started with vfork+exec, posix_spawn, exec from a thread,
// system() and popen(). CHILD is leaky_child.
//
// Usage: processes SCENARIO [CHILD]. Prints what it saw as KEY=VALUE lines; exits 0 when the
// program itself saw what it expected, 1 otherwise. The test checks the reports.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/start_detached.h"

extern char** environ;

// In the sanitized self-check build: a fork child of a multi-threaded parent inherits heap
// blocks whose owners (the parent's other threads) do not exist in it, so LeakSanitizer at the
// child's exit() reports them all, slowly. What these scenarios check is the shim, not that.
// (LeakSanitizer asks this hook even when ASAN_OPTIONS says detect_leaks=1.)
extern "C" int __lsan_is_turned_off() {
  return 1;
}

#ifdef __SANITIZE_ADDRESS__
constexpr int kMaxForks = 25;  // forking a process with ASan's shadow memory is slow
#else
constexpr int kMaxForks = 1000;
#endif

namespace {

std::atomic<bool> g_stop{false};
std::atomic<long> g_hammered{0};

// Threads that keep entering the tool: creation (stack capture, registry), join, detach, and
// contended locks and condition variables (wait slots).
class Hammers {
 public:
  explicit Hammers(int count) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this, i] { Hammer(i); });
  }
  ~Hammers() {
    g_stop = true;
    {
      std::lock_guard lock(mutex_);
      cv_.notify_all();
    }
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Hammer(int index) {
    while (!g_stop) {
      if (index % 2 == 0) {
        std::thread([] {}).join();
        test_support::StartAndDetach([] {});
      } else {
        std::unique_lock lock(mutex_);
        ++turns_;
        cv_.notify_one();
        cv_.wait_for(lock, std::chrono::microseconds(50));
      }
      ++g_hammered;
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  long turns_ = 0;
  std::vector<std::thread> threads_;
};

// Waits for `child` at most `seconds`; kills it after that. Returns its wait status, or -1 if
// it hung.
int WaitBounded(pid_t child, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  while (waitpid(child, &status, WNOHANG) != child) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return -1;
    }
    usleep(500);
  }
  return status;
}

int ExitStatusOf(int status) {
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// In a fork child: fresh primitives only (the parent's may have been held by a thread that does
// not exist here), threads created and joined, then a normal exit (the exit check runs).
[[noreturn]] void ChildChurnsAndExits() {
  for (int i = 0; i < 3; ++i) std::thread([] {}).join();
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done; });
  });
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  cv.notify_all();
  waiter.join();
  exit(0);
}

// Forks `forks` times from the calling thread; returns how many children hung or failed.
int ForkRepeatedly(int forks) {
  int bad = 0;
  for (int i = 0; i < forks; ++i) {
    pid_t child = fork();
    if (child < 0) return bad + 1;
    if (child == 0) ChildChurnsAndExits();
    int status = WaitBounded(child, 20);
    if (status < 0) {
      std::printf("hung child at fork %d\n", i);
      ++bad;
    } else if (ExitStatusOf(status) != 0) {
      std::printf("child %d ended with status 0x%x\n", i, status);
      ++bad;
    }
  }
  return bad;
}

int ForkHammer(int forks) {
  int bad = 0;
  {
    Hammers hammers(4);
    while (g_hammered < 100) std::this_thread::yield();
    int from_thread = 0;
    std::thread forker([&] { from_thread = ForkRepeatedly(forks); });
    bad = ForkRepeatedly(forks);
    forker.join();
    bad += from_thread;
  }
  std::printf("forks=%d\nbad=%d\n", 2 * forks, bad);
  return bad == 0 ? 0 : 1;
}

__attribute__((noinline)) void ChildBlockedForever() {
  std::mutex& mutex = *new std::mutex;
  std::condition_variable& never = *new std::condition_variable;
  std::unique_lock lock(mutex);
  never.wait(lock, [] { return false; });
}

__attribute__((noinline)) void ForkFromWorker(int* child_status) {
  pid_t child = fork();
  if (child == 0) {
    // The forking worker is this process's only thread: it leaks one and exits.
    std::atomic<bool> started{false};
    std::thread([&] {
      started = true;
      ChildBlockedForever();
    }).detach();
    while (!started) std::this_thread::yield();
    usleep(20000);
    exit(0);
  }
  std::printf("child_pid=%d\n", child);
  *child_status = ExitStatusOf(WaitBounded(child, 30));
}

int ForkFromThreadChildLeaks() {
  int child_status = -1;
  {
    Hammers hammers(4);
    while (g_hammered < 100) std::this_thread::yield();
    std::thread([&] { ForkFromWorker(&child_status); }).join();
  }
  std::printf("child_status=%d\n", child_status);
  return child_status == 66 ? 0 : 1;
}

// A thread the parent keeps blocked while it starts a child, then stops and joins: the child
// must not report it, and the parent ends clean.
class ParentThread {
 public:
  ParentThread()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [this] { return stop_; });
        }) {}
  ~ParentThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

std::vector<char*> ChildArgv(const char* child, const char* mode, const char* text) {
  return {const_cast<char*>(child), const_cast<char*>(mode), const_cast<char*>(text), nullptr};
}

int VforkExec(const char* child) {
  ParentThread parent_thread;
  std::vector<char*> argv = ChildArgv(child, "leak", "vfork");
  pid_t pid = vfork();
  if (pid == 0) {
    execv(child, argv.data());
    _exit(127);
  }
  std::printf("child_pid=%d\nchild_status=%d\n", pid, ExitStatusOf(WaitBounded(pid, 30)));
  return 0;
}

int PosixSpawn(const char* child) {
  ParentThread parent_thread;
  std::vector<char*> argv = ChildArgv(child, "leak", "posix_spawn");
  pid_t pid = -1;
  if (posix_spawn(&pid, child, nullptr, nullptr, argv.data(), environ) != 0) return 1;
  std::printf("child_pid=%d\nchild_status=%d\n", pid, ExitStatusOf(WaitBounded(pid, 30)));
  return 0;
}

int System(const char* child) {
  ParentThread parent_thread;
  std::string command = std::string(child) + " leak system";
  int status = system(command.c_str());
  std::printf("child_status=%d\n", ExitStatusOf(status));
  return 0;
}

int Popen(const char* child) {
  ParentThread parent_thread;
  std::string command = std::string(child) + " leak popen";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return 1;
  char line[256];
  std::string read;
  while (std::fgets(line, sizeof line, pipe) != nullptr) read += line;
  int status = pclose(pipe);
  bool saw = read.find("child says popen") != std::string::npos;
  std::printf("read_child_output=%d\nchild_status=%d\n", saw ? 1 : 0, ExitStatusOf(status));
  return saw ? 0 : 1;
}

// execv from a non-main thread while other threads are blocked: the new image has one thread,
// and its report (same pid) shows only the thread it leaks itself.
int ExecFromThread(const char* child) {
  ParentThread first, second;  // never stopped: exec replaces the whole process
  std::vector<char*> argv = ChildArgv(child, "leak", "exec");
  std::thread([&] {
    execv(child, argv.data());
    _exit(127);
  }).join();
  return 1;  // not reached
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string scenario = argc > 1 ? argv[1] : "";
  const char* child = argc > 2 ? argv[2] : "";
  if (scenario == "fork_hammer") {
    return ForkHammer(std::min(argc > 2 ? std::atoi(argv[2]) : 200, kMaxForks));
  }
  if (scenario == "fork_from_thread_child_leaks") return ForkFromThreadChildLeaks();
  if (scenario == "vfork_exec") return VforkExec(child);
  if (scenario == "posix_spawn") return PosixSpawn(child);
  if (scenario == "system") return System(child);
  if (scenario == "popen") return Popen(child);
  if (scenario == "exec_from_thread") return ExecFromThread(child);
  std::fprintf(stderr, "processes: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
