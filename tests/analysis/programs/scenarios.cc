// analysis_scenarios SCENARIO
//
// Leaves threads stuck in one shape of the wait-for graph, then returns from main (status 0), so
// threadleak reports them at exit. Deadlocks form behind barriers and every thread is seen
// blocked in the kernel (WaitUntilBlockedIn) before main returns: no sleeps, no races.
//
// Prints, on stderr, the objects and tids the harness checks the report against:
//   object NAME 0x55d0c8a0
//   tid NAME 4242
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>

#include "tests/e2e/programs/common.h"

namespace {

using e2e::CurrentTid;
using e2e::Die;
using e2e::NameThisThread;
using e2e::WaitUntilBlockedIn;

void PrintObject(const char* name, const void* object) {
  std::fprintf(stderr, "object %s %p\n", name, object);
}

// Names the calling thread and publishes its tid, right before the call it blocks in.
void Arrive(const char* name, std::atomic<int>* tid) {
  NameThisThread(name);
  std::fprintf(stderr, "tid %s %d\n", name, CurrentTid());
  tid->store(CurrentTid());
}

void Lock(pthread_mutex_t* mutex) {
  if (pthread_mutex_lock(mutex) != 0) Die("pthread_mutex_lock");
}

void InitBarrier(pthread_barrier_t* barrier, unsigned parties) {
  if (pthread_barrier_init(barrier, nullptr, parties) != 0) Die("pthread_barrier_init");
}

template <typename Fn>
void Leak(Fn fn) {
  std::thread(fn).detach();
}

// --- AB/BA: two threads take two mutexes in opposite orders; a third waits for one of them. ---
namespace abba {

pthread_mutex_t g_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_b = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t g_both_hold;
std::atomic<int> g_tid_a{0}, g_tid_b{0}, g_tid_bystander{0};

E2E_NOINLINE void LockAThenB() {
  Lock(&g_a);
  pthread_barrier_wait(&g_both_hold);
  Arrive("locker-a", &g_tid_a);
  Lock(&g_b);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void LockBThenA() {
  Lock(&g_b);
  pthread_barrier_wait(&g_both_hold);
  Arrive("locker-b", &g_tid_b);
  Lock(&g_a);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void WaitForA() {
  Arrive("bystander", &g_tid_bystander);
  Lock(&g_a);
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("a", &g_a);
  PrintObject("b", &g_b);
  InitBarrier(&g_both_hold, 2);
  Leak(LockAThenB);
  Leak(LockBThenA);
  WaitUntilBlockedIn(g_tid_a, SYS_futex);
  WaitUntilBlockedIn(g_tid_b, SYS_futex);
  Leak(WaitForA);
  WaitUntilBlockedIn(g_tid_bystander, SYS_futex);
}

}  // namespace abba

// --- Three threads in a ring: ring-i holds m[i] and waits for m[i+1]. ---
namespace three_cycle {

constexpr int kThreads = 3;
pthread_mutex_t g_mutexes[kThreads] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                       PTHREAD_MUTEX_INITIALIZER};
pthread_barrier_t g_all_hold;
std::atomic<int> g_tids[kThreads];

E2E_NOINLINE void HoldAndTakeNext(int i) {
  Lock(&g_mutexes[i]);
  pthread_barrier_wait(&g_all_hold);
  Arrive(("ring-" + std::to_string(i)).c_str(), &g_tids[i]);
  Lock(&g_mutexes[(i + 1) % kThreads]);
  E2E_KEEP_FRAME();
}

void Run() {
  for (int i = 0; i < kThreads; ++i) PrintObject(("m" + std::to_string(i)).c_str(), &g_mutexes[i]);
  InitBarrier(&g_all_hold, kThreads);
  for (int i = 0; i < kThreads; ++i) Leak([i] { HoldAndTakeNext(i); });
  for (int i = 0; i < kThreads; ++i) WaitUntilBlockedIn(g_tids[i], SYS_futex);
}

}  // namespace three_cycle

// --- A cycle through a join: the parent holds a mutex and joins a child that needs it. ---
namespace join_cycle {

pthread_mutex_t g_state = PTHREAD_MUTEX_INITIALIZER;
std::atomic<int> g_parent_tid{0}, g_child_tid{0};

E2E_NOINLINE void Child() {
  Arrive("child", &g_child_tid);
  Lock(&g_state);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Parent() {
  Lock(&g_state);
  std::thread child(Child);
  PrintObject("child_thread", reinterpret_cast<void*>(child.native_handle()));
  Arrive("parent", &g_parent_tid);
  child.join();
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("state", &g_state);
  Leak(Parent);
  WaitUntilBlockedIn(g_parent_tid, SYS_futex);
  WaitUntilBlockedIn(g_child_tid, SYS_futex);
}

}  // namespace join_cycle

// --- A mixed cycle: a writer of an rwlock waits for a mutex whose owner wants to read. ---
namespace mixed_cycle {

pthread_rwlock_t g_table = PTHREAD_RWLOCK_INITIALIZER;
pthread_mutex_t g_log = PTHREAD_MUTEX_INITIALIZER;
pthread_barrier_t g_both_hold;
std::atomic<int> g_writer_tid{0}, g_logger_tid{0};

E2E_NOINLINE void WriteThenLog() {
  if (pthread_rwlock_wrlock(&g_table) != 0) Die("pthread_rwlock_wrlock");
  pthread_barrier_wait(&g_both_hold);
  Arrive("table-writer", &g_writer_tid);
  Lock(&g_log);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void LogThenRead() {
  Lock(&g_log);
  pthread_barrier_wait(&g_both_hold);
  Arrive("logger", &g_logger_tid);
  if (pthread_rwlock_rdlock(&g_table) != 0) Die("pthread_rwlock_rdlock");
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("table", &g_table);
  PrintObject("log", &g_log);
  InitBarrier(&g_both_hold, 2);
  Leak(WriteThenLog);
  Leak(LogThenRead);
  WaitUntilBlockedIn(g_writer_tid, SYS_futex);
  WaitUntilBlockedIn(g_logger_tid, SYS_futex);
}

}  // namespace mixed_cycle

// --- A thread locks a non-recursive mutex it already holds. ---
namespace self_deadlock {

pthread_mutex_t g_config;
std::atomic<int> g_tid{0};

E2E_NOINLINE void Relock() {
  Lock(&g_config);
  Arrive("relocker", &g_tid);
  Lock(&g_config);  // PTHREAD_MUTEX_NORMAL: waits for itself forever
  E2E_KEEP_FRAME();
}

void Run() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL);
  if (pthread_mutex_init(&g_config, &attr) != 0) Die("pthread_mutex_init");
  PrintObject("config", &g_config);
  Leak(Relock);
  WaitUntilBlockedIn(g_tid, SYS_futex);
}

}  // namespace self_deadlock

// --- A writer queued behind a reader that leaked while holding the read lock. ---
namespace writer_behind_reader {

pthread_rwlock_t g_cache = PTHREAD_RWLOCK_INITIALIZER;
// Never destroyed: a destroyed condition variable would hang or break the waiter.
pthread_mutex_t* g_mutex = new pthread_mutex_t(PTHREAD_MUTEX_INITIALIZER);
pthread_cond_t* g_never = new pthread_cond_t(PTHREAD_COND_INITIALIZER);
std::atomic<int> g_reader_tid{0}, g_writer_tid{0};

E2E_NOINLINE void ReadAndHang() {
  if (pthread_rwlock_rdlock(&g_cache) != 0) Die("pthread_rwlock_rdlock");
  Lock(g_mutex);
  Arrive("reader", &g_reader_tid);
  for (;;) pthread_cond_wait(g_never, g_mutex);
}

E2E_NOINLINE void Write() {
  Arrive("writer", &g_writer_tid);
  if (pthread_rwlock_wrlock(&g_cache) != 0) Die("pthread_rwlock_wrlock");
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("cache", &g_cache);
  PrintObject("never", g_never);
  Leak(ReadAndHang);
  WaitUntilBlockedIn(g_reader_tid, SYS_futex);
  Leak(Write);
  WaitUntilBlockedIn(g_writer_tid, SYS_futex);
}

}  // namespace writer_behind_reader

// --- A waiter on a condition variable nothing else ever touches, and a thread joining it. ---
namespace lonely_condvar {

std::mutex* g_mutex = new std::mutex;
std::condition_variable* g_ready = new std::condition_variable;  // never destroyed
std::atomic<int> g_waiter_tid{0}, g_supervisor_tid{0};

E2E_NOINLINE void AwaitReady() {
  std::unique_lock<std::mutex> lock(*g_mutex);
  Arrive("lonely", &g_waiter_tid);
  g_ready->wait(lock, [] { return false; });
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Supervise() {
  std::thread waiter(AwaitReady);
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
  Arrive("supervisor", &g_supervisor_tid);
  waiter.join();
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("ready", g_ready);
  Leak(Supervise);
  WaitUntilBlockedIn(g_supervisor_tid, SYS_futex);
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
}

}  // namespace lonely_condvar

// --- A waiter whose signaller signalled once and now sleeps, alive: it might signal again. ---
namespace signaller_sleeping {

std::mutex* g_mutex = new std::mutex;
std::condition_variable* g_wake = new std::condition_variable;  // never destroyed
int g_waits = 0;                                                // under g_mutex
std::atomic<int> g_waiter_tid{0}, g_signaller_tid{0};

int Waits() {
  std::lock_guard<std::mutex> lock(*g_mutex);
  return g_waits;
}

E2E_NOINLINE void AwaitWork() {
  std::unique_lock<std::mutex> lock(*g_mutex);
  Arrive("waiter", &g_waiter_tid);
  for (;;) {
    ++g_waits;
    g_wake->wait(lock);  // spurious or not, there is never any work
  }
}

E2E_NOINLINE void SignalOnceThenSleep() {
  {
    std::lock_guard<std::mutex> lock(*g_mutex);
    g_wake->notify_one();
  }
  Arrive("signaller", &g_signaller_tid);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void Run() {
  PrintObject("wake", g_wake);
  Leak(AwaitWork);
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
  Leak(SignalOnceThenSleep);
  WaitUntilBlockedIn(g_signaller_tid, SYS_clock_nanosleep);
  // The notify woke the waiter: wait until it has gone round and waits again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Waits() < 2) {
    if (std::chrono::steady_clock::now() > deadline) Die("the waiter never woke up");
    std::this_thread::yield();
  }
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
}

}  // namespace signaller_sleeping

// --- A waiter on a static condition variable, whose destructor exit() would run. ---
namespace static_condvar {

std::mutex g_mutex;
std::condition_variable g_shutdown;  // static storage: its destructor is registered at start
std::atomic<int> g_tid{0};

E2E_NOINLINE void AwaitShutdown() {
  std::unique_lock<std::mutex> lock(g_mutex);
  Arrive("static-waiter", &g_tid);
  g_shutdown.wait(lock, [] { return false; });
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("shutdown", &g_shutdown);
  Leak(AwaitShutdown);
  WaitUntilBlockedIn(g_tid, SYS_futex);
}

}  // namespace static_condvar

// --- A thread waiting for a mutex whose owner returned without unlocking it. ---
namespace owner_exited {

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
std::atomic<int> g_quitter_tid{0}, g_waiter_tid{0};

E2E_NOINLINE void LockAndQuit() {
  Lock(&g_lock);
  Arrive("quitter", &g_quitter_tid);
}

E2E_NOINLINE void WaitForLock() {
  Arrive("orphan", &g_waiter_tid);
  Lock(&g_lock);
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("lock", &g_lock);
  Leak(LockAndQuit);
  e2e::WaitUntilGone(g_quitter_tid);
  Leak(WaitForLock);
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
}

}  // namespace owner_exited

// --- The lonely waiter again, after a signal handler ran on its thread during the wait and made
// a call of its own that blocks (the self-pipe trick: a write to a pipe). The handler's hooked
// call took the wait slot, and nothing can tell the interrupted wait from one a setcontext or a
// cancellation left behind, so the thread is then seen as the kernel shows it: a futex wait on
// the condition variable's inner word, never more certain than the condition variable wait. ---
namespace interrupted_condvar {

// In global data, built in place and never destroyed: where the futex word lies is then named
// the same way whatever allocator the program runs on (a sanitizer's has no glibc heap to walk).
alignas(std::mutex) unsigned char g_mutex_storage[sizeof(std::mutex)];
alignas(std::condition_variable) unsigned char g_ready_storage[sizeof(std::condition_variable)];
std::mutex* g_mutex = new (g_mutex_storage) std::mutex;
std::condition_variable* g_ready = new (g_ready_storage) std::condition_variable;
std::atomic<int> g_waiter_tid{0};
int g_pipe[2];

void WriteToPipe(int) {
  const int saved_errno = errno;
  const char byte = 1;
  if (write(g_pipe[1], &byte, 1) != 1) _exit(3);
  errno = saved_errno;
}

E2E_NOINLINE void AwaitReadyThroughASignal() {
  std::unique_lock<std::mutex> lock(*g_mutex);
  Arrive("interrupted", &g_waiter_tid);
  g_ready->wait(lock, [] { return false; });
  E2E_KEEP_FRAME();
}

void Run() {
  PrintObject("ready", g_ready);
  if (pipe(g_pipe) != 0) Die("pipe");
  struct sigaction action = {};
  action.sa_handler = WriteToPipe;
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &action, nullptr) != 0) Die("sigaction");
  std::thread waiter(AwaitReadyThroughASignal);
  const pthread_t handle = waiter.native_handle();
  waiter.detach();
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
  if (pthread_kill(handle, SIGUSR1) != 0) Die("pthread_kill");
  char byte;
  if (read(g_pipe[0], &byte, 1) != 1) Die("read");
  // The handler's write is done: the thread blocks in a futex again only back in its wait.
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
  PrintObject("word", reinterpret_cast<void*>(e2e::BlockedIn(g_waiter_tid).first_argument));
}

}  // namespace interrupted_condvar

struct Scenario {
  const char* name;
  void (*run)();
};

constexpr Scenario kScenarios[] = {
    {"abba", abba::Run},
    {"three_cycle", three_cycle::Run},
    {"join_cycle", join_cycle::Run},
    {"mixed_cycle", mixed_cycle::Run},
    {"self_deadlock", self_deadlock::Run},
    {"writer_behind_reader", writer_behind_reader::Run},
    {"lonely_condvar", lonely_condvar::Run},
    {"signaller_sleeping", signaller_sleeping::Run},
    {"static_condvar", static_condvar::Run},
    {"owner_exited", owner_exited::Run},
    {"interrupted_condvar", interrupted_condvar::Run},
};

}  // namespace

int main(int argc, char** argv) {
  for (const Scenario& s : kScenarios) {
    if (argc == 2 && std::strcmp(argv[1], s.name) == 0) {
      s.run();
      std::fprintf(stderr, "%s: done\n", s.name);
      return 0;
    }
  }
  std::fprintf(stderr, "usage: analysis_scenarios SCENARIO\nscenarios:");
  for (const Scenario& s : kScenarios) std::fprintf(stderr, " %s", s.name);
  std::fprintf(stderr, "\n");
  return 2;
}
