// Part of lock_deep.c: a library that defines pthread_mutex_lock itself, counting the calls that
// reach it before passing them on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

static int g_calls;

int pthread_mutex_lock(pthread_mutex_t* mutex) {
  static int (*next)(pthread_mutex_t*);
  if (next == NULL) next = (int (*)(pthread_mutex_t*))dlsym(RTLD_NEXT, "pthread_mutex_lock");
  ++g_calls;
  return next(mutex);
}

int deep_interposer_calls(void) {
  return g_calls;
}
