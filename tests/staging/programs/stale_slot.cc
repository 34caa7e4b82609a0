// A thread leaves a hooked sleep through setcontext from a signal handler (no hooked jump, so
// its wait slot stays "sleep"), then loops on raw futex waits (inline system calls, which no
// hook sees) from two stack depths. A dump must show it in those futex waits — or running —
// and never bring the stale sleep back. Prints "ready tid N"; ends with _exit when STOP_FILE
// exists. Usage: stale_slot STOP_FILE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

ucontext_t g_back;
volatile sig_atomic_t g_jumped = 0;
int g_word = 0;
volatile pid_t g_tid = 0;

void LeaveTheSleep(int) {
  g_jumped = 1;
  setcontext(&g_back);
}

long RawFutexWait() {
  timespec timeout = {0, 1'000'000};
  long result;
  register long r10 __asm__("r10") = reinterpret_cast<long>(&timeout);
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "0"(static_cast<long>(SYS_futex)), "D"(&g_word),
                     "S"(static_cast<long>(FUTEX_WAIT_PRIVATE)), "d"(0L), "r"(r10)
                   : "rcx", "r11", "memory");
  return result;
}

// A raw futex wait below a frame of `kPad` bytes: two of them put the wait at two stack depths.
template <size_t kPad>
__attribute__((noinline)) void WaitBelowFrameOf() {
  char pad[kPad];
  memset(pad, 1, sizeof pad);
  __asm__ volatile("" ::"r"(pad) : "memory");
  RawFutexWait();
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void SleepLong() {
  sleep(1000);
  __asm__ volatile("" ::: "memory");
}

void* Thread(void*) {
  g_tid = static_cast<pid_t>(syscall(SYS_gettid));
  getcontext(&g_back);
  if (!g_jumped) SleepLong();
  for (;;) {
    WaitBelowFrameOf<512>();
    WaitBelowFrameOf<2048>();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: stale_slot STOP_FILE\n");
    return 2;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = LeaveTheSleep;
  sigaction(SIGUSR1, &action, nullptr);
  pthread_t thread;
  pthread_create(&thread, nullptr, Thread, nullptr);
  while (g_tid == 0) usleep(1000);
  usleep(100'000);
  pthread_kill(thread, SIGUSR1);
  usleep(100'000);
  printf("ready tid %d\n", static_cast<int>(g_tid));
  fflush(stdout);
  while (access(argv[1], F_OK) != 0) usleep(10'000);
  _exit(0);
}
