// Calls that change the whole process, run with and without the shim (process_calls_test.cc):
// each prints what it saw and exits 0 when all went as it would without threadleak.
//   unshare_user  threads come and go, then unshare(CLONE_NEWUSER), which needs a process with
//                 one thread; then threads again
//   unshare_errno as unshare_user, with no signal allowed to queue (RLIMIT_SIGPENDING 0: a
//                 timer cannot be created) and errno set before: a successful unshare leaves
//                 errno as it was
//   seccomp       a thread, then a seccomp filter that kills the process on open/openat, then
//                 output and a normal exit (no leak)
//   spin_masked   a leaked thread that blocks every signal and spins: reported, and the report
//                 says why it has no stack
//   sig_ign       started with SIGUSR2 ignored: it stays ignored with a thread running, a
//                 SIGUSR2 to the process changes nothing, and a child exec'd from here sees it
//                 ignored too
//   inherited_filter kill|errno
//                 a seccomp filter that kills the process (or refuses with EPERM) on
//                 process_vm_readv, as a service manager or a container runtime installs one
//                 before the program starts; then this program again under it
//                 (leak_under_filter): a thread left in pthread_cond_wait at exit
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tests/common/seccomp_filter.h"

static void* Work(void* argument) {
  return argument;
}

static void StartAndJoin(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, Work, NULL);
  pthread_join(thread, NULL);
}

static int UnshareUser(int errno_before) {
  StartAndJoin();
  // A joined thread may still be leaving the thread group for a moment (the kernel wakes the
  // joiner before the task is gone), and unshare then fails with EINVAL with or without
  // threadleak: a few tries, 1 ms apart.
  int result = -1;
  for (int tries = 0; tries < 100 && result != 0; ++tries) {
    errno = errno_before;
    result = unshare(CLONE_NEWUSER);
    if (result != 0 && errno != EINVAL) break;
    if (result != 0) usleep(1000);
  }
  if (errno_before != 0) {
    printf("unshare=%d errno=%d\n", result, errno);
  } else {
    printf("unshare=%d errno=%s\n", result, result == 0 ? "none" : strerror(errno));
  }
  StartAndJoin();
  return 0;
}

static int Seccomp(void) {
  StartAndJoin();
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  if (InstallSeccompFilter(filter, sizeof filter / sizeof filter[0]) != 0) {
    printf("seccomp unavailable: %s\n", strerror(errno));
    return 0;
  }
  printf("sandboxed output\n");  // fully buffered into a file: flushed by exit()
  return 0;
}

static pthread_mutex_t g_never_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_never = PTHREAD_COND_INITIALIZER;
static volatile pid_t g_waiter_tid;

__attribute__((noinline)) static void* WaitsUnderTheFilter(void* argument) {
  pthread_mutex_lock(&g_never_mutex);
  g_waiter_tid = gettid();
  for (;;) pthread_cond_wait(&g_never, &g_never_mutex);
  return argument;
}

static int InheritedFilter(const char* program, const char* mode) {
  const unsigned action = strcmp(mode, "kill") == 0
                              ? SECCOMP_RET_KILL_PROCESS
                              : SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  if (InstallSeccompFilterOn(SYS_process_vm_readv, action) != 0) {
    printf("seccomp unavailable: %s\n", strerror(errno));
    return 0;
  }
  char* const again[] = {(char*)program, (char*)"leak_under_filter", NULL};
  execv("/proc/self/exe", again);
  printf("execv: %s\n", strerror(errno));
  return 2;
}

// Whether thread `tid` sleeps in the kernel's futex call (pthread_cond_wait's).
static int InFutex(pid_t tid) {
  char path[64];
  char text[32] = {0};
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  FILE* file = fopen(path, "r");
  if (file == NULL) return 0;
  size_t n = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[n] = '\0';
  return strncmp(text, "202 ", 4) == 0;  // SYS_futex on x86-64
}

static int LeakUnderFilter(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, WaitsUnderTheFilter, NULL);
  while (g_waiter_tid == 0 || !InFutex(g_waiter_tid)) usleep(1000);
  printf("left a thread waiting\n");
  return 0;
}

static int IgnoredUsr2(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, Work, NULL);
  struct sigaction action;
  sigaction(SIGUSR2, NULL, &action);
  printf("usr2 ignored at start: %s\n", action.sa_handler == SIG_IGN ? "yes" : "no");
  kill(getpid(), SIGUSR2);
  usleep(20000);
  printf("survived SIGUSR2\n");
  pthread_join(thread, NULL);
  fflush(stdout);
  execl("/bin/sh", "sh", "-c", "kill -USR2 $$; echo child survived SIGUSR2", (char*)NULL);
  return 1;
}

static volatile int g_spinning;

static void* SpinWithEverySignalBlocked(void* argument) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  g_spinning = 1;
  for (;;) {
  }
  return argument;
}

static int SpinMasked(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, SpinWithEverySignalBlocked, NULL);
  while (!g_spinning) usleep(1000);
  return 0;
}

int main(int argc, char** argv) {
  const char* scenario = argc > 1 ? argv[1] : "";
  if (strcmp(scenario, "unshare_user") == 0) return UnshareUser(0);
  if (strcmp(scenario, "unshare_errno") == 0) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_SIGPENDING, &none) != 0) return 2;
    return UnshareUser(77);
  }
  if (strcmp(scenario, "seccomp") == 0) return Seccomp();
  if (strcmp(scenario, "sig_ign") == 0) return IgnoredUsr2();
  if (strcmp(scenario, "spin_masked") == 0) return SpinMasked();
  if (strcmp(scenario, "inherited_filter") == 0 && argc > 2)
    return InheritedFilter(argv[0], argv[2]);
  if (strcmp(scenario, "leak_under_filter") == 0) return LeakUnderFilter();
  fprintf(stderr, "process_calls: unknown scenario '%s'\n", scenario);
  return 2;
}
