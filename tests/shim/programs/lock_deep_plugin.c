// Part of lock_deep.c: a plugin bound lazily whose dependency (lock_deep_interposer.c) defines
// pthread_mutex_lock. Opened with RTLD_DEEPBIND, its calls go to that definition.
#include <pthread.h>

int deep_interposer_calls(void);

// Takes a lock five times; returns how many calls the dependency's definition saw.
int deep_plugin_work(void) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  for (int i = 0; i < 5; ++i) {
    if (pthread_mutex_lock(&mutex) != 0) return -1;
    pthread_mutex_unlock(&mutex);
  }
  return deep_interposer_calls();
}
