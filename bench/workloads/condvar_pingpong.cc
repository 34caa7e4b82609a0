// Two threads handing a turn back and forth through a std::mutex and std::condition_variable:
// every operation is a blocking condvar wait. ops = round trips.
// Each thread on a CPU of its own (bench::PinToCpu: left to the scheduler, a round trip is a
// switch on one CPU in some runs and a cross-CPU wake-up in others).
// Usage: condvar_pingpong [ROUND_TRIPS]
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bench_util.h"

namespace {
std::mutex g_mutex;
std::condition_variable g_changed;
int g_turn = 0;  // 0: main's turn, 1: the partner's

void Partner(long rounds) {
  bench::PinToCpu(1);
  std::unique_lock<std::mutex> lock(g_mutex);
  for (long i = 0; i < rounds; ++i) {
    g_changed.wait(lock, [] { return g_turn == 1; });
    g_turn = 0;
    g_changed.notify_one();
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long rounds = bench::Count(argc, argv, 1, 200'000);
  bench::PinToCpu(0);
  bench::Measure(rounds, [](long n) {
    std::thread partner(Partner, n);
    {
      std::unique_lock<std::mutex> lock(g_mutex);
      for (long i = 0; i < n; ++i) {
        g_turn = 1;
        g_changed.notify_one();
        g_changed.wait(lock, [] { return g_turn == 0; });
      }
    }
    partner.join();
  });
  return 0;
}
