// Part of lock_binding.c: a library linked with -z now, whose GOT is read-only after start-up.
#include <pthread.h>

int binding_now_lock(void) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  int result = pthread_mutex_lock(&mutex);
  pthread_mutex_unlock(&mutex);
  return result;
}
