/* A library the program links against: its constructor runs before the shim's (ld.so
   initialises the program's dependencies first), and starts a thread that leaks. The shim must
   start itself from that pthread_create. Before it, a sem_post: a wake hook whose table of libc
   functions is not resolved yet must still post. (The first hooked call of the process, as long
   as no library initialised before this one calls a hook: checked in gdb when it was written.) */
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

static volatile int g_started;
static int g_posted_value = -1;

__attribute__((noinline)) static void* early_thread_blocks(void* unused) {
  (void)unused;
  g_started = 1;
  for (;;) pause();
  return 0;
}

__attribute__((constructor, noinline)) static void early_library_constructor(void) {
  sem_t posted;
  if (sem_init(&posted, 0, 0) == 0 && sem_post(&posted) == 0)
    sem_getvalue(&posted, &g_posted_value);
  pthread_t thread;
  if (pthread_create(&thread, 0, early_thread_blocks, 0) != 0) return;
  pthread_detach(thread);
  while (!g_started) usleep(1000);
}

int early_library_started(void) {
  return g_started;
}

int early_library_posted_value(void) {
  return g_posted_value;
}
