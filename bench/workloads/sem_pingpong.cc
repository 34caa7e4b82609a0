// Two threads handing a turn back and forth with two POSIX semaphores (sem_post/sem_wait).
// ops = round trips.
// Each thread on a CPU of its own (bench::PinToCpu: left to the scheduler, a round trip is a
// switch on one CPU in some runs and a cross-CPU wake-up in others).
// Usage: sem_pingpong [ROUND_TRIPS]
#include <semaphore.h>

#include <thread>

#include "bench_util.h"

namespace {
sem_t g_ping;
sem_t g_pong;

void Partner(long rounds) {
  bench::PinToCpu(1);
  for (long i = 0; i < rounds; ++i) {
    while (sem_wait(&g_ping) != 0) {
    }
    sem_post(&g_pong);
  }
}
}  // namespace

int main(int argc, char** argv) {
  const long rounds = bench::Count(argc, argv, 1, 200'000);
  sem_init(&g_ping, 0, 0);
  sem_init(&g_pong, 0, 0);
  bench::PinToCpu(0);
  bench::Measure(rounds, [](long n) {
    std::thread partner(Partner, n);
    for (long i = 0; i < n; ++i) {
      sem_post(&g_ping);
      while (sem_wait(&g_pong) != 0) {
      }
    }
    partner.join();
  });
  return 0;
}
