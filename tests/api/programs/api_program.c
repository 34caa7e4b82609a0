// Uses threadleak.h as a test runner written in C would: mark, run a test, check — twice. Test A
// starts a thread and joins it; test B starts one that blocks until released and returns
// without it. Prints what the API returned; with a path argument, dumps every thread there
// while B's thread still waits. Then releases and joins that thread, so the exit is clean: the
// only report is the API's.
//
// Plain C (the header must compile as C99 with -Wpedantic), no _GNU_SOURCE before the header.
#include "threadleak.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pthread_setname_np(pthread_t thread, const char* name);  // a GNU extension

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_opened = PTHREAD_COND_INITIALIZER;
static int gate_open = 0;

static void* Finish(void* arg) {
  return arg;
}

__attribute__((noinline)) static void* BlockedWorker(void* arg) {
  pthread_mutex_lock(&gate_mutex);
  while (!gate_open) pthread_cond_wait(&gate_opened, &gate_mutex);
  pthread_mutex_unlock(&gate_mutex);
  return arg;
}

// Test A: clean.
__attribute__((noinline)) static void RunTestA(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, Finish, NULL);
  pthread_join(thread, NULL);
}

// Test B: leaves its worker blocked.
__attribute__((noinline)) static pthread_t RunTestB(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, BlockedWorker, NULL);
  pthread_setname_np(thread, "leaky-b");
  return thread;
}

int main(int argc, char** argv) {
  int active = threadleak_active();
  uint64_t mark_a = threadleak_mark();
  RunTestA();
  int leaks_a = threadleak_check(mark_a, 100);

  uint64_t mark_b = threadleak_mark();
  pthread_t b = RunTestB();
  int leaks_b = threadleak_check(mark_b, 100);

  int dump = 0, dump_errno = 0;
  if (argc > 1) {
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dump = threadleak_dump(fd);
    dump_errno = dump == 0 ? 0 : errno;
    if (fd >= 0) close(fd);
  }

  pthread_mutex_lock(&gate_mutex);
  gate_open = 1;
  pthread_cond_broadcast(&gate_opened);
  pthread_mutex_unlock(&gate_mutex);
  pthread_join(b, NULL);

  printf("active=%d marks_apart=%" PRIu64 " leaks_a=%d leaks_b=%d dump=%d dump_error=%s\n", active,
         mark_b - mark_a, leaks_a, leaks_b, dump, dump_errno == 0 ? "none" : strerror(dump_errno));
  return 0;
}
