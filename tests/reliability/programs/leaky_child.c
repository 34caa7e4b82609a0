/* A small C program that other scenarios start as a child (exec, posix_spawn, system, popen),
   run as a static binary, or install set-user-ID. It prints what it was told, optionally leaks
   one thread blocked in child_blocked_forever, and returns 0.

   Usage: leaky_child leak|clean [TEXT]
          leaky_child dlopen LIBRARY leak|clean   (dlopen LIBRARY first, e.g. the shim)
   Prints "child says TEXT", "secure=N" (getauxval(AT_SECURE)) and "pid=N". */
#define _GNU_SOURCE
#ifndef LEAKY_CHILD_STATIC
#include <dlfcn.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static volatile int g_started;

__attribute__((noinline)) static void child_blocked_forever(void) {
  g_started = 1;
  for (;;) pause();
}

static void* child_thread(void* unused) {
  (void)unused;
  child_blocked_forever();
  return NULL;
}

__attribute__((noinline)) static int start_leak(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, child_thread, NULL) != 0) return -1;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
  usleep(10000); /* let it reach pause() */
  return 0;
}

int main(int argc, char** argv) {
  int arg = 1;
#ifndef LEAKY_CHILD_STATIC /* the static build (wrapper tests) needs no dlopen */
  if (argc > 2 && strcmp(argv[1], "dlopen") == 0) {
    if (dlopen(argv[2], RTLD_NOW) == NULL) {
      fprintf(stderr, "leaky_child: %s\n", dlerror());
      return 1;
    }
    arg = 3;
  }
#endif
  const char* mode = argc > arg ? argv[arg] : "clean";
  const char* text = argc > arg + 1 ? argv[arg + 1] : "hello";
  printf("child says %s\nsecure=%lu\npid=%d\n", text, getauxval(AT_SECURE), (int)getpid());
  fflush(stdout);
  if (strcmp(mode, "leak") == 0 && start_leak() != 0) return 1;
  return 0;
}
