// Two threads taking one std::mutex in a tight loop: locks that block, and handoffs through the
// kernel. ops = lock/unlock pairs of both threads together. Each thread on a CPU of its own
// (bench::PinToCpu).
// Usage: mutex_contended [ITERATIONS]
#include <mutex>
#include <thread>

#include "bench_util.h"

namespace {
std::mutex g_mutex;
long g_counter = 0;

void Hammer(long iterations, int cpu) {
  bench::PinToCpu(cpu);
  for (long i = 0; i < iterations; ++i) {
    std::lock_guard<std::mutex> lock(g_mutex);
    ++g_counter;
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long iterations = bench::Count(argc, argv, 1, 10'000'000);
  const long half = iterations / 2;
  long total = 0;
  bench::Measure(2 * half, [&total](long n) {
    std::thread other(Hammer, n / 2, 1);
    Hammer(n / 2, 0);
    other.join();
    total += n;
  });
  return g_counter == total ? 0 : 1;
}
