/* A library that starts a thread blocked in its own code and is then dlclose()d by the program
   (odd_threads dlclose_leak): the report must still be made, without a crash, though the code
   and unwind tables of the thread's frames are gone. Plain C, no thread-local storage, so glibc
   really unmaps it. */
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_never = PTHREAD_COND_INITIALIZER;
static volatile int g_started;

__attribute__((noinline)) static void plugin_waits_forever(void) {
  pthread_mutex_lock(&g_mutex);
  g_started = 1;
  for (;;) pthread_cond_wait(&g_never, &g_mutex);
}

static void* plugin_thread(void* unused) {
  (void)unused;
  plugin_waits_forever();
  return 0;
}

__attribute__((visibility("default"))) int plugin_start_leaky_thread(void) {
  pthread_t thread;
  if (pthread_create(&thread, 0, plugin_thread, 0) != 0) return -1;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
  pthread_mutex_lock(&g_mutex); /* it is in pthread_cond_wait once it released the mutex */
  pthread_mutex_unlock(&g_mutex);
  return 0;
}
