// Part of lock_binding.c: a library linked with -z lazy, whose PLT slots are bound at first call.
#include <pthread.h>
#include <threads.h>

int binding_lazy_lock(void) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  int result = pthread_mutex_lock(&mutex);
  pthread_mutex_unlock(&mutex);
  mtx_t c11_mutex;
  if (mtx_init(&c11_mutex, mtx_plain) != thrd_success) return -1;
  if (mtx_lock(&c11_mutex) != thrd_success) result = -1;
  mtx_unlock(&c11_mutex);
  mtx_destroy(&c11_mutex);
  return result;
}
