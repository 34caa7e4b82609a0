// C11 threads (<threads.h>) under threadleak: every entry glibc routes past the pthread hooks.
//   clean      thrd_create/join/detach, mtx, cnd, call_once, all finished: no report
//   leak       a waiter on a condition variable nobody signals, created by StartC11Waiter
//   deadlock   two threads locking two mtx_t in opposite orders
//   signalled  a waiter whose condition variable a live thread signals every 10 ms
//   join       a thread in thrd_join on a thread that never ends
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <threads.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static mtx_t g_lock;
static cnd_t g_cond;
static int g_ready;  // guarded by g_lock; never set in the leak modes

static void Name(const char* name) {
  prctl(PR_SET_NAME, name);
}

static void SleepMs(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  thrd_sleep(&pause, NULL);
}

// --- clean -----------------------------------------------------------------------------------

static once_flag g_once = ONCE_FLAG_INIT;
static int g_once_runs;
static void InitOnce(void) {
  ++g_once_runs;
}

static int Worker(void* argument) {
  call_once(&g_once, InitOnce);
  mtx_lock(&g_lock);
  g_ready += 1;
  cnd_broadcast(&g_cond);
  mtx_unlock(&g_lock);
  return 40 + (int)(long)argument;
}

static atomic_int g_detached_done;
static int Detached(void* argument) {
  (void)argument;
  atomic_store(&g_detached_done, 1);
  return 0;
}

static int Clean(void) {
  thrd_t threads[2];
  for (long i = 0; i < 2; ++i) {
    if (thrd_create(&threads[i], Worker, (void*)(i + 1)) != thrd_success) return 1;
  }
  mtx_lock(&g_lock);
  while (g_ready < 2) cnd_wait(&g_cond, &g_lock);
  struct timespec soon;
  timespec_get(&soon, TIME_UTC);
  soon.tv_nsec += 1000000;
  if (soon.tv_nsec >= 1000000000) {
    soon.tv_sec += 1;
    soon.tv_nsec -= 1000000000;
  }
  int timed = cnd_timedwait(&g_cond, &g_lock, &soon);  // nobody signals: times out
  mtx_unlock(&g_lock);
  int sum = 0;
  for (int i = 0; i < 2; ++i) {
    int result = 0;
    if (thrd_join(threads[i], &result) != thrd_success) return 1;
    sum += result;
  }
  thrd_t detached;
  if (thrd_create(&detached, Detached, NULL) != thrd_success) return 1;
  if (thrd_detach(detached) != thrd_success) return 1;
  while (!atomic_load(&g_detached_done)) SleepMs(1);
  SleepMs(20);  // let it finish leaving
  printf("sum %d, once %d, timedwait %s\n", sum, g_once_runs,
         timed == thrd_timedout ? "timed out" : "other");
  return 0;
}

// --- leak ------------------------------------------------------------------------------------

static int WaitForever(void* argument) {
  Name((const char*)argument);
  mtx_lock(&g_lock);
  while (!g_ready) cnd_wait(&g_cond, &g_lock);
  mtx_unlock(&g_lock);
  return 0;
}

NOINLINE static void StartC11Waiter(void) {
  thrd_t thread;
  thrd_create(&thread, WaitForever, "c11-waiter");
}

// --- deadlock --------------------------------------------------------------------------------

static mtx_t g_a, g_b;
static atomic_int g_holding;

static void BothHold(void) {
  atomic_fetch_add(&g_holding, 1);
  while (atomic_load(&g_holding) < 2) SleepMs(1);
}

NOINLINE static int LockAThenB(void* argument) {
  (void)argument;
  Name("c11-locker-a");
  mtx_lock(&g_a);
  BothHold();
  mtx_lock(&g_b);
  return 0;
}

NOINLINE static int LockBThenA(void* argument) {
  (void)argument;
  Name("c11-locker-b");
  mtx_lock(&g_b);
  BothHold();
  mtx_lock(&g_a);
  return 0;
}

// --- signalled -------------------------------------------------------------------------------

static int SignalEvery10Ms(void* argument) {
  (void)argument;
  Name("c11-signaller");
  for (;;) {
    mtx_lock(&g_lock);
    cnd_signal(&g_cond);
    mtx_unlock(&g_lock);
    SleepMs(10);
  }
  return 0;
}

// --- join ------------------------------------------------------------------------------------

static int JoinTheWaiter(void* argument) {
  Name("c11-joiner");
  thrd_t waiter = *(thrd_t*)argument;
  int result;
  thrd_join(waiter, &result);
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "clean";
  mtx_init(&g_lock, mtx_plain);
  cnd_init(&g_cond);
  if (strcmp(mode, "clean") == 0) return Clean();
  if (strcmp(mode, "leak") == 0) {
    StartC11Waiter();
  } else if (strcmp(mode, "deadlock") == 0) {
    mtx_init(&g_a, mtx_plain);
    mtx_init(&g_b, mtx_plain);
    thrd_t a, b;
    thrd_create(&a, LockAThenB, NULL);
    thrd_create(&b, LockBThenA, NULL);
  } else if (strcmp(mode, "signalled") == 0) {
    thrd_t waiter, signaller;
    thrd_create(&waiter, WaitForever, "c11-waiter");
    thrd_create(&signaller, SignalEvery10Ms, NULL);
  } else if (strcmp(mode, "join") == 0) {
    static thrd_t waiter;
    thrd_t joiner;
    thrd_create(&waiter, WaitForever, "c11-waiter");
    thrd_create(&joiner, JoinTheWaiter, &waiter);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  SleepMs(100);  // every thread in its wait
  puts("main returns");
  return 0;
}
