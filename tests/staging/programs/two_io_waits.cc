// Threads that go from one short I/O wait to another all the time: poll() for 1 ms, then
// select() for 1 ms, both hooked, neither on an object. A dump names a thread's I/O call from
// its first look and unwinds it a moment later, by when it may wait in the other call: the stack
// and the call named must then still be one wait's (a thread in select must never be shown "in
// poll" with select's stack). Prints "ready", runs until STOP_FILE exists.
// Usage: two_io_waits STOP_FILE
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

__attribute__((noinline)) void WaitInPoll() {
  poll(nullptr, 0, 1);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void WaitInSelect() {
  timeval timeout = {0, 1000};
  select(0, nullptr, nullptr, nullptr, &timeout);
  __asm__ volatile("" ::: "memory");
}

void Waiter() {
  pthread_setname_np(pthread_self(), "io");
  while (!g_stop.load()) {
    WaitInPoll();
    WaitInSelect();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: two_io_waits STOP_FILE\n");
    return 2;
  }
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) waiters.emplace_back(Waiter);
  printf("ready\n");
  fflush(stdout);
  while (access(argv[1], F_OK) != 0) usleep(10'000);
  g_stop.store(true);
  for (std::thread& waiter : waiters) waiter.join();
  return 0;
}
