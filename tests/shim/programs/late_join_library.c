/* A library that starts worker threads on demand and stops and joins them in its destructor, as
   libuv does from uv_library_shutdown: the threads live until the library's finalizer, which runs
   inside the loader's, after the program's own destructors. No leak. */
#include <pthread.h>
#include <stdio.h>

enum { kWorkers = 4 };

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static int g_stop;
static int g_started;
static pthread_t g_workers[kWorkers];

static void* work(void* unused) {
  (void)unused;
  pthread_mutex_lock(&g_mutex);
  while (!g_stop) pthread_cond_wait(&g_wake, &g_mutex);
  pthread_mutex_unlock(&g_mutex);
  return NULL;
}

void late_join_library_start(void) {
  for (int i = 0; i < kWorkers; ++i) pthread_create(&g_workers[i], NULL, work, NULL);
  g_started = 1;
}

__attribute__((destructor)) static void late_join_library_stop(void) {
  if (!g_started) return;
  pthread_mutex_lock(&g_mutex);
  g_stop = 1;
  pthread_cond_broadcast(&g_wake);
  pthread_mutex_unlock(&g_mutex);
  for (int i = 0; i < kWorkers; ++i) pthread_join(g_workers[i], NULL);
  printf("library workers joined in its finalizer\n");
  fflush(stdout);
}
