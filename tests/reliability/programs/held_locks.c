/* Issue 13, a report that needs nothing the program can hold: at exit, a leaked thread holds
   malloc's lock, the loader's lock or stdout's lock — or exit() is called from a signal handler
   that interrupted malloc. The report must still be written and the process must end, as
   without the tool where that ends.

   Usage: held_locks malloc_lock         a leaked thread blocks inside malloc_stats() (which
                                         holds the main arena's lock while it writes to stderr)
                                         writing to a full pipe; main calls exit(0)
          held_locks loader_lock LIB     a leaked thread blocks in LIB's constructor, inside
                                         dlopen() (the loader's lock held); main calls exit(0)
          held_locks stdout_lock         main prints a line (buffered), then a leaked thread
                                         takes stdout's lock for good; main calls exit(0)
          held_locks exit_in_malloc N L  main allocates and frees in a loop; another thread sends
                                         SIGTERM after N microseconds, whose handler calls
                                         exit(0); L=1 also leaves a leaked thread
   Prints "pid=N" first. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_started;

static void sleep_ms(long ms) {
  struct timespec pause_for = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause_for, &pause_for) != 0) {
  }
}

static void start(void* (*body)(void*), void* arg) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, body, arg) != 0) exit(3);
  pthread_detach(thread);
  while (!atomic_load(&g_started)) sleep_ms(1);
  sleep_ms(200); /* let it reach its wait */
}

__attribute__((noinline)) static void* held_malloc_stats(void* unused) {
  (void)unused;
  atomic_store(&g_started, 1);
  malloc_stats(); /* blocks writing to the full pipe on stderr, the arena's lock held */
  return NULL;
}

static int malloc_lock(void) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 3;
  /* Fill the pipe: a write to it blocks from now on. */
  fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
  char block[4096];
  memset(block, 'x', sizeof block);
  while (write(pipe_fds[1], block, sizeof block) > 0) {
  }
  fcntl(pipe_fds[1], F_SETFL, 0);
  dup2(pipe_fds[1], 2);
  start(held_malloc_stats, NULL);
  printf("exiting\n");
  exit(0);
}

static void* held_dlopen(void* library) {
  atomic_store(&g_started, 1);
  dlopen((const char*)library, RTLD_NOW); /* its constructor never returns */
  return NULL;
}

static int loader_lock(const char* library) {
  start(held_dlopen, (void*)library);
  printf("exiting\n");
  exit(0);
}

__attribute__((noinline)) static void* held_stdout(void* unused) {
  (void)unused;
  flockfile(stdout);
  atomic_store(&g_started, 1);
  for (;;) pause();
  return NULL;
}

static int stdout_lock(void) {
  printf("pending line\n"); /* stays in the buffer: stdout is a file */
  start(held_stdout, NULL);
  exit(0);
}

static void exit_on_term(int signal_number) {
  (void)signal_number;
  exit(0);
}

static long g_delay_us;

static void* send_term(void* unused) {
  (void)unused;
  atomic_store(&g_started, 1);
  struct timespec pause_for = {0, g_delay_us * 1000L};
  nanosleep(&pause_for, NULL);
  kill(getpid(), SIGTERM);
  return NULL;
}

__attribute__((noinline)) static void* blocked_forever(void* unused) {
  (void)unused;
  for (;;) pause();
  return NULL;
}

static int exit_in_malloc(long delay_us, int leak) {
  signal(SIGTERM, exit_on_term);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  /* Only main takes SIGTERM: the threads start with it blocked. */
  pthread_sigmask(SIG_BLOCK, &term, NULL);
  pthread_t thread;
  if (leak) {
    pthread_create(&thread, NULL, blocked_forever, NULL);
    pthread_detach(thread);
  }
  g_delay_us = delay_us;
  pthread_create(&thread, NULL, send_term, NULL);
  pthread_detach(thread);
  pthread_sigmask(SIG_UNBLOCK, &term, NULL);
  void* blocks[64] = {0};
  for (unsigned i = 0;; ++i) {
    unsigned slot = (i * 7919u) % 64;
    free(blocks[slot]);
    blocks[slot] = malloc(16 + (i * 131u) % 8192);
  }
  return 0; /* not reached: the handler ends the process */
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOFBF, 4096); /* the buffer exists before any lock is held */
  printf("pid=%d\n", (int)getpid());
  fflush(stdout);
  const char* scenario = argc > 1 ? argv[1] : "";
  if (strcmp(scenario, "malloc_lock") == 0) return malloc_lock();
  if (strcmp(scenario, "loader_lock") == 0 && argc > 2) return loader_lock(argv[2]);
  if (strcmp(scenario, "stdout_lock") == 0) return stdout_lock();
  if (strcmp(scenario, "exit_in_malloc") == 0 && argc > 3)
    return exit_in_malloc(atol(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: held_locks malloc_lock|loader_lock LIB|stdout_lock|exit_in_malloc N L\n");
  return 2;
}
