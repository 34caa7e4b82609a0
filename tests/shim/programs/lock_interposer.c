// Preloaded before the shim by the lock binding test: a library of the user's own that
// interposes pthread_mutex_lock too. The shim must leave the program's calls to it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

int pthread_mutex_lock(pthread_mutex_t* mutex) {
  static int (*next)(pthread_mutex_t*);
  if (next == NULL) next = (int (*)(pthread_mutex_t*))dlsym(RTLD_NEXT, "pthread_mutex_lock");
  return next(mutex);
}
