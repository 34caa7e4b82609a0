/* Item 6 of issue 8: the log file. The program knows its own pid, so it can play the attacker
   who plants something at LOGBASE.PID before the shim opens it at exit, then leaks a thread.

   Usage: log_files symlink LOGBASE TARGET   (LOGBASE.PID -> TARGET, TARGET need not exist)
          log_files existing LOGBASE         (LOGBASE.PID already holds "precious\n")
          log_files umask0                   (umask(0), so only the shim's mode protects it)
          log_files leak */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int g_started;

__attribute__((noinline)) static void* log_files_blocked(void* unused) {
  (void)unused;
  g_started = 1;
  for (;;) pause();
  return NULL;
}

static int leak(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, log_files_blocked, NULL) != 0) return 1;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
  usleep(10000);
  return 0;
}

static void planted_path(char* out, size_t size, const char* base) {
  snprintf(out, size, "%s.%d", base, (int)getpid());
}

int main(int argc, char** argv) {
  const char* scenario = argc > 1 ? argv[1] : "";
  char path[4096];
  if (strcmp(scenario, "symlink") == 0 && argc > 3) {
    planted_path(path, sizeof path, argv[2]);
    if (symlink(argv[3], path) != 0) return 1;
  } else if (strcmp(scenario, "existing") == 0 && argc > 2) {
    planted_path(path, sizeof path, argv[2]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || write(fd, "precious\n", 9) != 9) return 1;
    close(fd);
  } else if (strcmp(scenario, "umask0") == 0) {
    umask(0);
  } else if (strcmp(scenario, "leak") != 0) {
    fprintf(stderr, "log_files: unknown scenario '%s'\n", scenario);
    return 2;
  }
  printf("pid=%d\n", (int)getpid());
  fflush(stdout);
  return leak();
}
