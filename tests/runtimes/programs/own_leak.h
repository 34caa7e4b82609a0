// One real leak of the program's own, for the negative runtime tests: a thread named
// "own-leak", created by StartOwnLeak, reading a pipe nobody writes to.
#ifndef THREADLEAK_TESTS_RUNTIMES_OWN_LEAK_H_
#define THREADLEAK_TESTS_RUNTIMES_OWN_LEAK_H_

#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

static int own_leak_pipe[2];

static void* OwnLeakReads(void* argument) {
  (void)argument;
  prctl(PR_SET_NAME, "own-leak");
  char byte;
  return (void*)read(own_leak_pipe[0], &byte, 1);
}

__attribute__((noinline, unused)) static void StartOwnLeak(void) {
  pthread_t thread;
  if (pipe(own_leak_pipe) == 0) pthread_create(&thread, NULL, OwnLeakReads, NULL);
}

#endif  // THREADLEAK_TESTS_RUNTIMES_OWN_LEAK_H_
