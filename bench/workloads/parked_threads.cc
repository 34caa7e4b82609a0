// Resident memory with THREADS threads parked on a condition variable: prints the process's
// VmRSS before the threads start and once all of them wait, then releases and joins them (so
// the run ends without a leak). Run with and without the tool; the difference of the two
// growths divided by THREADS is the tool's memory per live thread.
// Usage: parked_threads [THREADS]
#include <pthread.h>
#include <string.h>

#include <vector>

#include "bench_util.h"

namespace {
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_release = PTHREAD_COND_INITIALIZER;
long g_parked = 0;
bool g_released = false;

void* Park(void*) {
  pthread_mutex_lock(&g_mutex);
  ++g_parked;
  while (!g_released) pthread_cond_wait(&g_release, &g_mutex);
  pthread_mutex_unlock(&g_mutex);
  return nullptr;
}

long ResidentKiB() {
  FILE* status = fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, status) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, nullptr, 10);
  }
  fclose(status);
  return kib;
}

void WaitUntilParked(long threads) {
  for (;;) {
    pthread_mutex_lock(&g_mutex);
    bool all = g_parked == threads;
    pthread_mutex_unlock(&g_mutex);
    if (all) return;
    sched_yield();
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long threads = bench::Count(argc, argv, 1, 1000);
  std::vector<pthread_t> handles(threads);
  // One thread first, so one-time costs (a tool's first stack capture, its first chunk of
  // records, libc's first thread) are in the "before" figure, not spread over the threads.
  pthread_t warm_up;
  pthread_create(
      &warm_up, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  pthread_join(warm_up, nullptr);
  const long before = ResidentKiB();
  for (long i = 0; i < threads; ++i) {
    if (pthread_create(&handles[i], nullptr, Park, nullptr) != 0) {
      fprintf(stderr, "parked_threads: pthread_create failed after %ld threads\n", i);
      return 3;
    }
  }
  WaitUntilParked(threads);
  const long parked = ResidentKiB();
  printf("threads=%ld rss_before_kib=%ld rss_parked_kib=%ld\n", threads, before, parked);
  fflush(stdout);
  pthread_mutex_lock(&g_mutex);
  g_released = true;
  pthread_cond_broadcast(&g_release);
  pthread_mutex_unlock(&g_mutex);
  for (pthread_t handle : handles) pthread_join(handle, nullptr);
  return 0;
}
