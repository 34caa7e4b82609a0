// Leaves THREADS threads blocked on a condition variable when main returns, so that threadleak
// reports all of them. Prints `main_return_ns=` (CLOCK_MONOTONIC, the clock every process
// shares) just before main returns; the runner takes the time the process ended and subtracts.
// Threads get 64 KiB stacks so that 10,000 of them fit easily. With `masked`, each thread blocks
// every signal first, as liblzma's and jemalloc's workers do: a report that asked threads for
// their stacks with a signal waited for answers that never came (issue 12: 1,000 such threads
// took ~9 s).
// Usage: leak_at_exit [THREADS] [masked]
#include <pthread.h>
#include <signal.h>

#include <cstring>

#include "bench_util.h"

namespace {
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_never = PTHREAD_COND_INITIALIZER;
long g_parked = 0;
bool g_masked = false;

__attribute__((noinline)) void* WaitForever(void*) {
  if (g_masked) {
    sigset_t every;
    sigfillset(&every);
    pthread_sigmask(SIG_SETMASK, &every, nullptr);
  }
  pthread_mutex_lock(&g_mutex);
  ++g_parked;
  for (;;) pthread_cond_wait(&g_never, &g_mutex);  // nobody signals: a leak by construction
}
}  // namespace

int main(int argc, char** argv) {
  const long threads = bench::Count(argc, argv, 1, 1000);
  g_masked = argc > 2 && strcmp(argv[2], "masked") == 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (long i = 0; i < threads; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, &attr, WaitForever, nullptr) != 0) {
      fprintf(stderr, "leak_at_exit: pthread_create failed after %ld threads\n", i);
      return 3;
    }
  }
  // Each thread holds the mutex from its increment until its wait releases it, so once the
  // count is complete and the mutex is free, every thread is inside pthread_cond_wait.
  for (;;) {
    pthread_mutex_lock(&g_mutex);
    bool all = g_parked == threads;
    pthread_mutex_unlock(&g_mutex);
    if (all) break;
    sched_yield();
  }
  printf("threads=%ld main_return_ns=%lld\n", threads, bench::MonotonicNanos());
  fflush(stdout);
  return 0;
}
