/* Issue 13, fork and exit: the exit check runs once per process, whichever thread gets there
   first, and children made while the tool is busy, or without its fork handlers, neither hang
   nor speak for their parent.

   Usage: exits concurrent_exit        two threads call exit(0) at once; a third is leaked
          exits vfork_exit             leaks; a vfork child fails to exec and calls exit(127)
          exits fork_child_exit N      leaks; N _Fork (N=0: fork) children call exit(0)
          exits fork_in_grace N        leaks, calls exit(0); during the exit check's grace
                                       period the leaked thread forks N children that exit(0)
          exits fork_during_dumps N    N children forked while another thread writes dumps
                                       back to back (threadleak_dump); no leak
          exits fork_during_watchdog N N children forked while the watchdog reports waits of
                                       5 ms back to back (run with watchdog_ms=1); no leak
          exits main_gone              leaks a thread in pthread_cond_wait; main ends with
                                       pthread_exit and another thread calls exit(0) later
   Prints "pid=N" first, and what it saw as KEY=VALUE lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "threadleak.h"

/* In the sanitized self-check build: a fork child of a multi-threaded parent inherits heap blocks
   whose owners do not exist in it; LeakSanitizer at the child's exit() would report them. */
int __lsan_is_turned_off(void) {
  return 1;
}

static atomic_int g_started;

__attribute__((noinline)) static void exits_blocked_forever(void) {
  atomic_store(&g_started, 1);
  for (;;) pause();
}

static void* leaked(void* unused) {
  (void)unused;
  exits_blocked_forever();
  return NULL;
}

static int leak(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, leaked, NULL) != 0) return 1;
  pthread_detach(thread);
  while (!atomic_load(&g_started)) usleep(1000);
  usleep(10000); /* let it reach pause() */
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec pause_for = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause_for, &pause_for) != 0) {
  }
}

/* Waits up to 2 s for `child`; one that has not ended by then spins (or hangs): it is killed.
   Returns its exit status, or -1 when it had to be killed or did not exit. */
static int reap(pid_t child) {
  for (int waited_ms = 0; waited_ms < 2000; waited_ms += 5) {
    int status;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    sleep_ms(5);
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return -1;
}

/* Forks `count` children that call exit(0) at once; prints how many ended normally. */
static void fork_children(int count, int use_fork_without_handlers) {
  int normal = 0, hung = 0;
  for (int i = 0; i < count; ++i) {
    pid_t child = use_fork_without_handlers ? _Fork() : fork();
    if (child == 0) exit(0);
    if (child < 0) continue;
    if (reap(child) == 0)
      ++normal;
    else
      ++hung;
  }
  printf("children_normal=%d\nchildren_hung=%d\n", normal, hung);
  fflush(stdout);
}

/* --- two threads call exit() at once -------------------------------------------------------- */

static pthread_barrier_t g_exit_barrier;

static void* exit_now(void* unused) {
  (void)unused;
  pthread_barrier_wait(&g_exit_barrier);
  exit(0);
}

static int concurrent_exit(void) {
  if (leak() != 0) return 1;
  pthread_barrier_init(&g_exit_barrier, NULL, 2);
  pthread_t a, b;
  if (pthread_create(&a, NULL, exit_now, NULL) != 0) return 1;
  if (pthread_create(&b, NULL, exit_now, NULL) != 0) return 1;
  for (;;) pause();
}

/* --- exit() after main is gone: the thread-group leader is a zombie, whose pid no longer names
   the process's memory ---------------------------------------------------------------------- */

static pthread_mutex_t g_never_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_never = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) static void* exits_waits_on_cond(void* unused) {
  pthread_mutex_lock(&g_never_mutex);
  atomic_store(&g_started, 1);
  for (;;) pthread_cond_wait(&g_never, &g_never_mutex);
  return unused;
}

static void* exit_later(void* unused) {
  sleep_ms(200);
  exit(0);
  return unused;
}

static int main_gone(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, exits_waits_on_cond, NULL) != 0) return 1;
  while (!atomic_load(&g_started)) usleep(1000);
  if (pthread_create(&thread, NULL, exit_later, NULL) != 0) return 1;
  fflush(stdout);
  pthread_exit(NULL);
}

/* --- vfork, then exit() after a failed exec -------------------------------------------------- */

static int vfork_exit(void) {
  if (leak() != 0) return 1;
  fflush(stdout);
  pid_t child = vfork();
  if (child == 0) {
    execl("/nonexistent/threadleak-test-program", "nothing", (char*)NULL);
    exit(127); /* the common mistake: exit, not _exit, after a failed exec */
  }
  if (child < 0) return 1;
  int status;
  if (waitpid(child, &status, 0) != child) return 1;
  printf("child_status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}

/* --- children of _Fork or fork, while a thread is leaked ------------------------------------- */

static int fork_child_exit(int count) {
  if (leak() != 0) return 1;
  fflush(stdout);
  if (count == 0) {
    fork_children(1, 0);
  } else {
    fork_children(count, 1);
  }
  return 0;
}

/* --- children forked during the exit check's grace period ------------------------------------ */

static atomic_int g_exiting;
static int g_children;

static void* fork_in_grace_thread(void* unused) {
  (void)unused;
  atomic_store(&g_started, 1);
  while (!atomic_load(&g_exiting)) sleep_ms(1);
  sleep_ms(100); /* the exit check is lingering now: this thread is still alive */
  fork_children(g_children, 0);
  exits_blocked_forever();
  return NULL;
}

static int fork_in_grace(int count) {
  g_children = count;
  pthread_t thread;
  if (pthread_create(&thread, NULL, fork_in_grace_thread, NULL) != 0) return 1;
  pthread_detach(thread);
  while (!atomic_load(&g_started)) usleep(1000);
  atomic_store(&g_exiting, 1);
  exit(0);
}

/* --- children forked while dumps are written ------------------------------------------------- */

static atomic_int g_forks_done;

static void* fork_during_dumps_thread(void* count) {
  for (int i = 0; i < *(int*)count; ++i) {
    sleep_ms(2);
    fork_children(1, 0);
  }
  atomic_store(&g_forks_done, 1);
  return NULL;
}

static int fork_during_dumps(int count) {
  int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  pthread_t thread;
  if (null_fd < 0 || pthread_create(&thread, NULL, fork_during_dumps_thread, &count) != 0) return 1;
  int dumps = 0;
  while (!atomic_load(&g_forks_done)) {
    if (threadleak_dump(null_fd) == 0) ++dumps;
    if (!threadleak_active()) sleep_ms(1);
  }
  pthread_join(thread, NULL);
  printf("dumps=%d\n", dumps);
  return 0;
}

/* --- children forked while the watchdog reports ------------------------------------------------
 */

static atomic_int g_stop_waiting;

/* Waits of 5 ms each, back to back: with watchdog_ms=1, each is a new report. */
static void* overdue_waits(void* unused) {
  (void)unused;
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t never = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&mutex);
  while (!atomic_load(&g_stop_waiting)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 5000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec += 1, until.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&never, &mutex, &until);
  }
  pthread_mutex_unlock(&mutex);
  return NULL;
}

static int fork_during_watchdog(int count) {
  pthread_t waiter, forker;
  if (pthread_create(&waiter, NULL, overdue_waits, NULL) != 0) return 1;
  if (pthread_create(&forker, NULL, fork_during_dumps_thread, &count) != 0) return 1;
  pthread_join(forker, NULL);
  atomic_store(&g_stop_waiting, 1);
  pthread_join(waiter, NULL);
  return 0;
}

int main(int argc, char** argv) {
  const char* scenario = argc > 1 ? argv[1] : "";
  int count = argc > 2 ? atoi(argv[2]) : 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("pid=%d\n", (int)getpid());
  if (strcmp(scenario, "concurrent_exit") == 0) return concurrent_exit();
  if (strcmp(scenario, "main_gone") == 0) return main_gone();
  if (strcmp(scenario, "vfork_exit") == 0) return vfork_exit();
  if (strcmp(scenario, "fork_child_exit") == 0) return fork_child_exit(count);
  if (strcmp(scenario, "fork_in_grace") == 0) return fork_in_grace(count);
  if (strcmp(scenario, "fork_during_dumps") == 0) return fork_during_dumps(count);
  if (strcmp(scenario, "fork_during_watchdog") == 0) return fork_during_watchdog(count);
  fprintf(stderr, "exits: unknown scenario '%s'\n", scenario);
  return 2;
}
