// Uncontended std::mutex lock/unlock on one thread (libstdc++ reaches pthread_mutex_lock).
// With IDLE_THREADS > 0 that many threads wait on a condvar meanwhile: glibc takes a free mutex
// without an atomic instruction while a process has only ever had one thread, so the two cases
// cost differently.
// Usage: mutex_std [ITERATIONS] [IDLE_THREADS]
#include <mutex>

#include "bench_util.h"
#include "idle_threads.h"

namespace {
std::mutex g_mutex;
long g_counter = 0;
}  // namespace

int main(int argc, char** argv) {
  const long iterations = bench::Count(argc, argv, 1, 20'000'000);
  bench::IdleThreads idle(bench::Count(argc, argv, 2, 0, /*zero_ok=*/true));
  long total = 0;
  bench::Measure(iterations, [&total](long n) {
    for (long i = 0; i < n; ++i) {
      std::lock_guard<std::mutex> lock(g_mutex);
      ++g_counter;
    }
    total += n;
  });
  return g_counter == total ? 0 : 1;
}
