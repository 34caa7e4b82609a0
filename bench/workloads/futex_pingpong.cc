// Two threads handing a turn back and forth through one futex word with syscall(SYS_futex), as
// libstdc++'s std::atomic<int>::wait/notify_one, futures, latches and semaphores do once their
// brief spin is over. ops = round trips. Without the spin: whether a spin catches the other
// thread's store depends on how the two CPUs' timing falls, and throughput with std::atomic::wait
// differed by up to 8x from one run to the next, with or without the tool. Each thread on a CPU
// of its own (bench::PinToCpu).
// Usage: futex_pingpong [ROUND_TRIPS]
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "bench_util.h"

namespace {
std::atomic<int> g_turn{0};  // 0: main's turn, 1: the partner's

int* Word() {
  return reinterpret_cast<int*>(&g_turn);
}

// Sleeps while the turn is `value` (the kernel checks the word before it sleeps).
void WaitWhile(int value) {
  while (g_turn.load(std::memory_order_acquire) == value) {
    syscall(SYS_futex, Word(), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
  }
}

void Hand(int turn) {
  g_turn.store(turn, std::memory_order_release);
  syscall(SYS_futex, Word(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void Partner(long rounds) {
  bench::PinToCpu(1);
  for (long i = 0; i < rounds; ++i) {
    WaitWhile(0);
    Hand(0);
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long rounds = bench::Count(argc, argv, 1, 200'000);
  static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);
  bench::PinToCpu(0);
  bench::Measure(rounds, [](long n) {
    std::thread partner(Partner, n);
    for (long i = 0; i < n; ++i) {
      Hand(1);
      WaitWhile(1);
    }
    partner.join();
  });
  return 0;
}
