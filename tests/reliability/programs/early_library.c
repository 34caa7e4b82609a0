/* A library the program links against: its constructor runs before the shim's (ld.so
   initialises the program's dependencies first), and starts a thread that leaks. The shim must
   start itself from that pthread_create. */
#include <pthread.h>
#include <unistd.h>

static volatile int g_started;

__attribute__((noinline)) static void* early_thread_blocks(void* unused) {
  (void)unused;
  g_started = 1;
  for (;;) pause();
  return 0;
}

__attribute__((constructor, noinline)) static void early_library_constructor(void) {
  pthread_t thread;
  if (pthread_create(&thread, 0, early_thread_blocks, 0) != 0) return;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
}

int early_library_started(void) {
  return g_started;
}
