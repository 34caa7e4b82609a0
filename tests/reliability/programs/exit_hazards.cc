// Programs whose exit, or whose descriptors, the report machinery must leave as they are
// (exit_hazards_test.cc). Each behaves the same with and without the shim.
//
// Usage: exit_hazards exit_again          a leaked thread; main returns 0 and an atexit handler
//                                         calls exit(5): the process ends with 5
//        exit_hazards exit_256            a leaked thread; exit(256), which the parent sees as 0
//        exit_hazards child_in_exit       a static destructor joins a thread that waits for a
//                                         child process running 2 s: prints "joined", ends with 0
//        exit_hazards slow_reader_in_exit an atexit handler joins a thread writing 256 KiB to a
//                                         pipe whose reader (a child) starts reading after 2 s:
//                                         prints "joined", ends with 0
//        exit_hazards alarm_in_exit       an atexit handler waits on a semaphore that a SIGALRM
//                                         handler posts 2 s later: prints "posted", ends with 0
//        exit_hazards subreaper_dump      a subreaper (a supervisor, a container's init) with
//                                         SIGCHLD blocked; two dumps are made (under the shim);
//                                         prints sigchld=0|1 and children=none|some (wait(-1))
//        exit_hazards closed_stdout       closes 0-2, a thread keeps trying to write to fd 1 and
//                                         read fd 0 while three dumps are made (under the shim);
//                                         prints how many of those calls worked
//                                         (closed_stdout_writes=N, closed_stdin_reads=N)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "scripts/dump_request.h"

namespace {

void SleepMs(long ms) {
  timespec pause_for = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause_for, &pause_for) != 0) {
  }
}

[[noreturn]] void* BlockedForever(void*) {
  for (;;) pause();
}

void StartLeakedThread() {
  pthread_t thread;
  if (pthread_create(&thread, nullptr, BlockedForever, nullptr) != 0) std::exit(3);
  pthread_detach(thread);
}

// --- exit_again
void ExitAgain() {
  std::printf("handler calls exit(5)\n");
  std::fflush(stdout);
  std::exit(5);
}

int RunExitAgain() {
  StartLeakedThread();
  std::atexit(ExitAgain);
  SleepMs(50);
  return 0;
}

// --- exit_256
int RunExit256() {
  StartLeakedThread();
  SleepMs(50);
  std::exit(256);
}

// --- child_in_exit
pthread_t g_child_waiter;
bool g_child_waiter_started = false;

void* WaitForChild(void*) {
  pid_t child = fork();
  if (child == 0) {
    SleepMs(2000);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return nullptr;
}

struct JoinsTheChildWaiter {
  ~JoinsTheChildWaiter() {
    if (!g_child_waiter_started) return;
    pthread_join(g_child_waiter, nullptr);
    std::printf("joined\n");
  }
} g_joins_the_child_waiter;

int RunChildInExit() {
  g_child_waiter_started = pthread_create(&g_child_waiter, nullptr, WaitForChild, nullptr) == 0;
  return 0;
}

// --- slow_reader_in_exit
pthread_t g_writer;
int g_pipe_write_end = -1;

void* WriteMuch(void*) {
  static char block[256 * 1024];
  std::memset(block, 'x', sizeof block);
  size_t done = 0;
  while (done < sizeof block) {
    ssize_t n = write(g_pipe_write_end, block + done, sizeof block - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(g_pipe_write_end);
  return nullptr;
}

void JoinWriter() {
  pthread_join(g_writer, nullptr);
  std::printf("joined\n");
}

int RunSlowReaderInExit() {
  int fds[2];
  if (pipe(fds) != 0) return 3;
  if (fork() == 0) {  // the slow reader
    close(fds[1]);
    SleepMs(2000);
    char buffer[4096];
    while (read(fds[0], buffer, sizeof buffer) > 0) {
    }
    _exit(0);
  }
  close(fds[0]);
  g_pipe_write_end = fds[1];
  if (pthread_create(&g_writer, nullptr, WriteMuch, nullptr) != 0) return 3;
  std::atexit(JoinWriter);
  return 0;
}

// --- alarm_in_exit
sem_t g_posted;

void PostOnAlarm(int) {
  sem_post(&g_posted);
}

void WaitForThePost() {
  while (sem_wait(&g_posted) != 0) {
  }
  std::printf("posted\n");
}

int RunAlarmInExit() {
  sem_init(&g_posted, 0, 0);
  pthread_t thread;  // a thread of the program's own first (the tool's thread starts with it)
  pthread_create(
      &thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  pthread_join(thread, nullptr);
  struct sigaction action = {};
  action.sa_handler = PostOnAlarm;
  sigaction(SIGALRM, &action, nullptr);
  std::atexit(WaitForThePost);
  alarm(2);
  return 0;
}

// --- subreaper_dump
int RunSubreaperDump() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return 3;
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, nullptr);
  StartLeakedThread();
  SleepMs(50);
  for (int i = 0; i < 2; ++i) {
    threadleak::RequestDump(getpid());  // false without the shim: nothing to ask
    SleepMs(500);
  }
  sigset_t pending;
  sigpending(&pending);
  int status = 0;
  const pid_t waited = waitpid(-1, &status, WNOHANG);
  std::printf("sigchld=%d\nchildren=%s\n", sigismember(&pending, SIGCHLD),
              waited == -1 && errno == ECHILD ? "none" : "some");
  std::fflush(stdout);
  _exit(0);  // (the leaked thread is not what this asks about)
}

// --- closed_stdout
std::atomic<int> g_writes_worked{0};
std::atomic<int> g_reads_worked{0};
std::atomic<bool> g_stop{false};

void* Probe(void*) {
  while (!g_stop.load()) {
    char byte = 'x';
    if (write(STDOUT_FILENO, &byte, 1) == 1) g_writes_worked.fetch_add(1);
    if (read(STDIN_FILENO, &byte, 1) >= 0) g_reads_worked.fetch_add(1);
    usleep(100);
  }
  return nullptr;
}

int RunClosedStdout() {
  const int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 20);
  close(STDIN_FILENO);
  close(STDOUT_FILENO);
  close(STDERR_FILENO);
  pthread_t prober;
  if (pthread_create(&prober, nullptr, Probe, nullptr) != 0) return 3;
  SleepMs(50);
  for (int i = 0; i < 3; ++i) {
    threadleak::RequestDump(getpid());  // false without the shim: nothing to ask
    SleepMs(300);
  }
  g_stop.store(true);
  pthread_join(prober, nullptr);
  dprintf(saved, "closed_stdout_writes=%d\n", g_writes_worked.load());
  dprintf(saved, "closed_stdin_reads=%d\n", g_reads_worked.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOFBF, 4096);
  const std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario == "exit_again") return RunExitAgain();
  if (scenario == "exit_256") return RunExit256();
  if (scenario == "child_in_exit") return RunChildInExit();
  if (scenario == "slow_reader_in_exit") return RunSlowReaderInExit();
  if (scenario == "alarm_in_exit") return RunAlarmInExit();
  if (scenario == "subreaper_dump") return RunSubreaperDump();
  if (scenario == "closed_stdout") return RunClosedStdout();
  std::fprintf(stderr, "exit_hazards: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
