// Two threads deadlocked on two mutexes (AB/BA) while main goes on for a while, then leaves
// without waiting for them (_exit: no exit report). For the watchdog, which must see lock waits.
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>

namespace {

pthread_mutex_t g_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_b = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t g_both_hold_one;

__attribute__((noinline)) void* TakeAThenB(void*) {
  pthread_mutex_lock(&g_a);
  pthread_barrier_wait(&g_both_hold_one);
  pthread_mutex_lock(&g_b);
  return nullptr;
}

__attribute__((noinline)) void* TakeBThenA(void*) {
  pthread_mutex_lock(&g_b);
  pthread_barrier_wait(&g_both_hold_one);
  pthread_mutex_lock(&g_a);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  pthread_barrier_init(&g_both_hold_one, nullptr, 2);
  pthread_t first, second;
  pthread_create(&first, nullptr, TakeAThenB, nullptr);
  pthread_create(&second, nullptr, TakeBThenA, nullptr);
  usleep(static_cast<useconds_t>(argc > 1 ? std::atoi(argv[1]) : 1500) * 1000);
  _exit(0);
}
