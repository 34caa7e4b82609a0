/* Issue 13, report descriptors: the program's own descriptors change under the tool, and the
   report must neither land in the program's files nor be lost.

   Usage: descriptors reuse_fds DIR         a first report (an API check), then fds 3..1023 are
                                            closed and DIR/data0..7 opened and written; exit
          descriptors close_stderr          fclose(stderr) before exit (xz -T4 does)
          descriptors stderr_onto_file DIR  DIR/data opened onto fd 2 before exit
          descriptors full_log LOGBASE      an API check reports 41 threads to LOGBASE.PID, then
                                            RLIMIT_FSIZE stops that file from growing; exit
          descriptors checks N              N API checks, each a report
          descriptors quiet_leak            nothing else, and no output at all
   Each scenario leaks one thread, blocked in descriptors_blocked, and returns 0 from main.
   Prints "pid=N" first (but quiet_leak), and what it saw as KEY=VALUE lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "threadleak.h"

static volatile int g_started;

__attribute__((noinline)) static void* descriptors_blocked(void* unused) {
  (void)unused;
  g_started = 1;
  for (;;) pause();
  return NULL;
}

static int leak(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, descriptors_blocked, NULL) != 0) return 1;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
  usleep(10000); /* let it reach pause() */
  return 0;
}

static int reuse_fds(const char* dir) {
  uint64_t mark = threadleak_mark();
  if (leak() != 0) return 1;
  printf("first_report_leaks=%d\n", threadleak_check(mark, 0));
  fflush(stdout);
  /* What daemons and test runners do: close every descriptor but the standard ones, then open
     their own files. The lowest numbers come back first. */
  for (int fd = 3; fd < 1024; ++fd) close(fd);
  for (int i = 0; i < 8; ++i) {
    char path[4096], text[32];
    snprintf(path, sizeof path, "%s/data%d", dir, i);
    snprintf(text, sizeof text, "data %d\n", i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) return 1;
    /* left open, as the program's files are while it exits */
  }
  return 0;
}

static int stderr_onto_file(const char* dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/data", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || dup2(fd, STDERR_FILENO) != STDERR_FILENO) return 1;
  close(fd);
  if (write(STDERR_FILENO, "own data\n", 9) != 9) return 1;
  return leak();
}

static int g_release[2];

static void* short_lived(void* unused) {
  (void)unused;
  char byte;
  while (read(g_release[0], &byte, 1) < 0) {
  }
  return NULL;
}

static int full_log(const char* base) {
  enum { kThreads = 40 };
  pthread_t threads[kThreads];
  if (pipe(g_release) != 0) return 1;
  uint64_t mark = threadleak_mark();
  for (int i = 0; i < kThreads; ++i) {
    if (pthread_create(&threads[i], NULL, short_lived, NULL) != 0) return 1;
  }
  if (leak() != 0) return 1;
  printf("first_report_leaks=%d\n", threadleak_check(mark, 0));
  char release[kThreads] = {0};
  if (write(g_release[1], release, sizeof release) != (ssize_t)sizeof release) return 1;
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s.%d", base, (int)getpid());
  struct stat log;
  if (stat(path, &log) != 0) {
    printf("log_size=none\n");
    return 0;
  }
  printf("log_size=%lld\n", (long long)log.st_size);
  fflush(stdout);
  /* The log file cannot grow any more: every write to it fails with EFBIG, as on a full disk.
     Smaller files (the program's output) still can. */
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = {(rlim_t)log.st_size, (rlim_t)log.st_size};
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) return 1;
  return 0;
}

static int checks(int count) {
  uint64_t mark = threadleak_mark();
  if (leak() != 0) return 1;
  int reported = 0;
  for (int i = 0; i < count; ++i) reported += threadleak_check(mark, 0);
  printf("reported=%d\n", reported);
  return 0;
}

int main(int argc, char** argv) {
  const char* scenario = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : "";
  if (strcmp(scenario, "quiet_leak") == 0) return leak();
  printf("pid=%d\n", (int)getpid());
  fflush(stdout);
  if (strcmp(scenario, "reuse_fds") == 0) return reuse_fds(arg);
  if (strcmp(scenario, "close_stderr") == 0) {
    if (leak() != 0) return 1;
    return fclose(stderr) == 0 ? 0 : 1;
  }
  if (strcmp(scenario, "stderr_onto_file") == 0) return stderr_onto_file(arg);
  if (strcmp(scenario, "full_log") == 0) return full_log(arg);
  if (strcmp(scenario, "checks") == 0) return checks(atoi(arg));
  fprintf(stderr, "descriptors: unknown scenario '%s'\n", scenario);
  return 2;
}
