// A library that gets pthread_create with dlsym(RTLD_NEXT, ...), as jemalloc does for its
// background threads, and checks that RTLD_NEXT still means "after this library" for others.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <unistd.h>

const char* layered_name(void) {
  return "upper";
}

// What the next library in the search order calls itself.
const char* next_layered_name(void) {
  const char* (*next)(void) = (const char* (*)(void))dlsym(RTLD_NEXT, "layered_name");
  return next != NULL ? next() : "(none)";
}

// What dlerror() says after a failed lookup followed by a successful RTLD_NEXT one.
const char* dlerror_after_found_lookup(void) {
  dlsym(RTLD_DEFAULT, "threadleak_no_such_symbol");
  void* found = dlsym(RTLD_NEXT, "pthread_create");
  const char* error = dlerror();
  return found == NULL ? "not found" : error == NULL ? "cleared" : "kept";
}

static int g_pipe[2];

static void* ReadForever(void* argument) {
  (void)argument;
  prctl(PR_SET_NAME, "rtld-next");
  char byte;
  return (void*)read(g_pipe[0], &byte, 1);
}

typedef int (*CreateFn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

// Starts a thread through the pthread_create that RTLD_NEXT finds; joins it first if `stop`.
__attribute__((noinline)) int start_through_rtld_next(int stop) {
  CreateFn create = (CreateFn)dlsym(RTLD_NEXT, "pthread_create");
  if (create == NULL || pipe(g_pipe) != 0) return -1;
  pthread_t thread;
  if (create(&thread, NULL, ReadForever, NULL) != 0) return -1;
  if (stop) {
    close(g_pipe[1]);
    pthread_join(thread, NULL);
  }
  return 0;
}
