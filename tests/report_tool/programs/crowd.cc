// A crowd of threads for the report tool's tests: N threads parked on a condition variable
// nobody signals, spread over three functions (three stacks, so three groups), and two threads
// deadlocked on two mutexes (AB/BA). Then main sleeps until threadleak's time limit dumps every
// thread and ends the process, or, with "exit", returns so the exit check reports them.
//
// usage: crowd N [exit]
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

pthread_mutex_t park_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t never = PTHREAD_COND_INITIALIZER;
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t both_hold_one;

void Park() {
  pthread_mutex_lock(&park_mutex);
  for (;;) pthread_cond_wait(&never, &park_mutex);
}

__attribute__((noinline)) void* ParkA(void*) {
  Park();
  return nullptr;
}
__attribute__((noinline)) void* ParkB(void*) {
  Park();
  return nullptr;
}
__attribute__((noinline)) void* ParkC(void*) {
  Park();
  return nullptr;
}

__attribute__((noinline)) void* LockAThenB(void*) {
  pthread_mutex_lock(&lock_a);
  pthread_barrier_wait(&both_hold_one);
  pthread_mutex_lock(&lock_b);
  return nullptr;
}
__attribute__((noinline)) void* LockBThenA(void*) {
  pthread_mutex_lock(&lock_b);
  pthread_barrier_wait(&both_hold_one);
  pthread_mutex_lock(&lock_a);
  return nullptr;
}

void Start(void* (*body)(void*)) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);  // ten thousand threads, little memory
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int error = pthread_create(&thread, &attr, body, nullptr);
  pthread_attr_destroy(&attr);
  if (error != 0) {
    fprintf(stderr, "crowd: pthread_create: %s\n", strerror(error));
    exit(3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: crowd N [exit]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  void* (*parks[])(void*) = {ParkA, ParkB, ParkC};
  for (int i = 0; i < n; ++i) Start(parks[i % 3]);
  pthread_barrier_init(&both_hold_one, nullptr, 2);
  Start(LockAThenB);
  Start(LockBThenA);
  if (argc > 2 && strcmp(argv[2], "exit") == 0) {
    sleep(1);  // the two lockers reach their second lock
    return 0;
  }
  for (;;) pause();
}
