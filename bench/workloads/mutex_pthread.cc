// Uncontended pthread_mutex_lock/unlock on one thread: the hook's cost when a lock never blocks.
// With IDLE_THREADS > 0 that many threads wait on a condvar meanwhile: glibc takes a free mutex
// without an atomic instruction while a process has only ever had one thread, so the two cases
// cost differently.
// Usage: mutex_pthread [ITERATIONS] [IDLE_THREADS]
#include <pthread.h>

#include "bench_util.h"
#include "idle_threads.h"

namespace {
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
long g_counter = 0;
}  // namespace

int main(int argc, char** argv) {
  const long iterations = bench::Count(argc, argv, 1, 20'000'000);
  bench::IdleThreads idle(bench::Count(argc, argv, 2, 0, /*zero_ok=*/true));
  long total = 0;
  bench::Measure(iterations, [&total](long n) {
    for (long i = 0; i < n; ++i) {
      pthread_mutex_lock(&g_mutex);
      ++g_counter;
      pthread_mutex_unlock(&g_mutex);
    }
    total += n;
  });
  return g_counter == total ? 0 : 1;
}
