// std::thread create + join, with the create 12 calls deep (the creation stack threadleak
// captures). ops = threads created and joined.
// Usage: thread_create_join [THREADS]
#include <atomic>
#include <thread>

#include "bench_util.h"

namespace {
std::atomic<long> g_ran{0};

void Work() {
  g_ran.fetch_add(1, std::memory_order_relaxed);
}

template <int kDepth>
__attribute__((noinline)) void CreateAndJoin(long threads) {
  if constexpr (kDepth == 0) {
    for (long i = 0; i < threads; ++i) {
      std::thread thread(Work);
      thread.join();
    }
  } else {
    CreateAndJoin<kDepth - 1>(threads);
  }
  asm volatile("" ::: "memory");  // keeps each level a real frame (no tail call)
}
}  // namespace

int main(int argc, char** argv) {
  const long threads = bench::Count(argc, argv, 1, 20'000);
  long total = 0;
  bench::Measure(threads, [&total](long n) {
    CreateAndJoin<11>(n);  // levels 11..0: 12 frames above main
    total += n;
  });
  return g_ran.load() == total ? 0 : 1;
}
