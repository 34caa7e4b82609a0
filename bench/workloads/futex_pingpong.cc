// Two threads handing a turn back and forth with std::atomic<int>::wait/notify_one: libstdc++
// spins briefly, then waits with syscall(SYS_futex) on the atomic. ops = round trips.
// Each thread on a CPU of its own (bench::PinToCpu: left to the scheduler, a round trip is a
// switch on one CPU in some runs and a cross-CPU wake-up in others).
// Usage: futex_pingpong [ROUND_TRIPS]
#include <atomic>
#include <thread>

#include "bench_util.h"

namespace {
std::atomic<int> g_turn{0};  // 0: main's turn, 1: the partner's

void Partner(long rounds) {
  bench::PinToCpu(1);
  for (long i = 0; i < rounds; ++i) {
    g_turn.wait(0, std::memory_order_acquire);
    g_turn.store(0, std::memory_order_release);
    g_turn.notify_one();
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long rounds = bench::Count(argc, argv, 1, 200'000);
  bench::OpsTimer timer;
  std::thread partner(Partner, rounds);
  bench::PinToCpu(0);
  for (long i = 0; i < rounds; ++i) {
    g_turn.store(1, std::memory_order_release);
    g_turn.notify_one();
    g_turn.wait(1, std::memory_order_acquire);
  }
  partner.join();
  timer.Report(rounds);
  return 0;
}
