// A pool whose workers are in and out of their condition variable all the time: each takes a
// ticket, works ~20 µs, and waits for the next, while the feeder hands out tickets without pause.
// A dump then finds each worker running in one look and in pthread_cond_wait in the next; it
// must show it in one or the other, never as a futex wait of its own (the condition variable's
// inner word, which nothing is recorded as waking). Prints "ready", runs until STOP_FILE exists.
// Usage: busy_pool STOP_FILE
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_tickets_ready = PTHREAD_COND_INITIALIZER;
int g_tickets = 0;
bool g_stop = false;

void WorkBriefly() {
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
  while (std::chrono::steady_clock::now() < until) {
  }
}

void Worker() {
  pthread_setname_np(pthread_self(), "pool");
  for (;;) {
    pthread_mutex_lock(&g_mutex);
    while (g_tickets == 0 && !g_stop) pthread_cond_wait(&g_tickets_ready, &g_mutex);
    if (g_stop) {
      pthread_mutex_unlock(&g_mutex);
      return;
    }
    --g_tickets;
    pthread_mutex_unlock(&g_mutex);
    WorkBriefly();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: busy_pool STOP_FILE\n");
    return 2;
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(Worker);
  printf("ready\n");
  fflush(stdout);
  for (long round = 0;; ++round) {
    if (round % 64 == 0 && access(argv[1], F_OK) == 0) break;
    pthread_mutex_lock(&g_mutex);
    g_tickets = 2;
    pthread_cond_broadcast(&g_tickets_ready);
    pthread_mutex_unlock(&g_mutex);
    usleep(30);
  }
  pthread_mutex_lock(&g_mutex);
  g_stop = true;
  pthread_cond_broadcast(&g_tickets_ready);
  pthread_mutex_unlock(&g_mutex);
  for (std::thread& worker : workers) worker.join();
  printf("busy_pool done\n");
  return 0;
}
