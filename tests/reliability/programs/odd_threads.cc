// Item 2 of issue 8: odd threads. Threads that block every signal, thread-local destructors
// (C++ thread_local and pthread keys) that block or do hooked work, cancellation whose cleanup
// handler blocks, pthread_exit from main, _exit/quick_exit/abort with a leak, and a library
// that starts a thread and is dlclose()d.
//
// Usage: odd_threads SCENARIO [ARG]. Prints KEY=VALUE lines the test reads; exits 0 (or what
// the scenario says) when the program saw what it expected.
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <threads.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::atomic<int> g_ready{0};

// Heap-allocated: never destroyed, so exit without the tool does not hang in a destructor.
std::mutex& g_mutex = *new std::mutex;
std::condition_variable& g_never = *new std::condition_variable;

__attribute__((noinline)) void BlockForever() {
  std::unique_lock lock(g_mutex);
  ++g_ready;
  g_never.wait(lock, [] { return false; });
}

void WaitReady(int count) {
  while (g_ready < count) usleep(1000);
  usleep(30000);  // let the last one reach its wait
}

void BlockAllSignals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

__attribute__((noinline)) void* SignalProofWaiter(void*) {
  BlockAllSignals();
  BlockForever();
  return nullptr;
}

__attribute__((noinline)) void* SignalProofReader(void*) {
  BlockAllSignals();
  int fds[2];
  if (pipe(fds) != 0) return nullptr;
  ++g_ready;
  char byte;
  (void)read(fds[0], &byte, 1);  // the write end stays open: never returns
  return nullptr;
}

// Two leaked threads that block every signal: one in a hooked wait, one in read().
int SignalsBlocked() {
  pthread_t thread;
  pthread_create(&thread, nullptr, SignalProofWaiter, nullptr);
  pthread_create(&thread, nullptr, SignalProofReader, nullptr);
  WaitReady(2);
  return 0;
}

// --- thread-local destructors ----------------------------------------------------------------

pthread_key_t g_key;

__attribute__((noinline)) void KeyDestructorBlocks(void*) {
  BlockForever();
}

// A detached thread whose pthread key destructor (key created by the program, after the shim
// started) never returns: the thread is alive and blocked, so it is a leak.
int KeyDestructorLeak() {
  pthread_key_create(&g_key, KeyDestructorBlocks);
  pthread_t thread;
  pthread_create(
      &thread, nullptr,
      [](void*) -> void* {
        pthread_setspecific(g_key, reinterpret_cast<void*>(1));
        return nullptr;
      },
      nullptr);
  pthread_detach(thread);
  WaitReady(1);
  return 0;
}

// The same with a C11 key (libc's tss_create makes its key without calling pthread_key_create),
// made after another key that was deleted: the blocking key may take the deleted one's index.
tss_t g_tss;

__attribute__((noinline)) void TssDestructorBlocks(void*) {
  BlockForever();
}

int TssDestructorLeak() {
  pthread_key_t deleted;
  pthread_key_create(&deleted, [](void*) {});
  pthread_key_delete(deleted);
  if (tss_create(&g_tss, TssDestructorBlocks) != thrd_success) return 3;
  thrd_t thread;
  thrd_create(
      &thread,
      [](void*) -> int {
        tss_set(g_tss, reinterpret_cast<void*>(1));
        return 0;
      },
      nullptr);
  thrd_detach(thread);
  WaitReady(1);
  return 0;
}

struct BlocksOnDestruction {
  __attribute__((noinline)) ~BlocksOnDestruction() { BlockForever(); }
};

// The same with a C++ thread_local destructor.
int ThreadLocalDestructorLeak() {
  std::thread([] {
    static thread_local BlocksOnDestruction blocker;
    (void)&blocker;
  }).detach();
  WaitReady(1);
  return 0;
}

std::atomic<int> g_destructors{0};

// A destructor that does what destructors do: takes a contended lock, starts and joins a
// thread, posts a semaphore. All through hooks, while the thread is being torn down.
void DestructorWork() {
  static std::mutex contended;
  {
    std::lock_guard lock(contended);
    usleep(100);
  }
  std::thread([] {}).join();
  sem_t done;
  sem_init(&done, 0, 0);
  std::thread([&] { sem_post(&done); }).join();
  sem_wait(&done);
  ++g_destructors;
}

struct WorksOnDestruction {
  ~WorksOnDestruction() { DestructorWork(); }
};

void KeyDestructorWorks(void*) {
  DestructorWork();
}

sem_t g_set_up;

void* EndsAnyWay(void* how) {
  static thread_local WorksOnDestruction tls;
  (void)&tls;
  pthread_setspecific(g_key, reinterpret_cast<void*>(1));
  sem_post(&g_set_up);
  switch (reinterpret_cast<intptr_t>(how)) {
    case 0:
      return nullptr;
    case 1:
      pthread_exit(nullptr);
    default:
      for (;;) pause();  // cancelled
  }
}

// Threads ending by return, pthread_exit and cancellation, each with a thread_local and a key
// whose destructors do hooked work; all joined. Nothing may be reported.
int DestructorsClean() {
  pthread_key_create(&g_key, KeyDestructorWorks);
  sem_init(&g_set_up, 0, 0);
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    for (intptr_t how = 0; how < 3; ++how) {
      pthread_t thread;
      pthread_create(&thread, nullptr, EndsAnyWay, reinterpret_cast<void*>(how));
      while (sem_wait(&g_set_up) != 0) {
      }
      if (how == 2) pthread_cancel(thread);
      pthread_join(thread, nullptr);
    }
  }
  std::printf("destructors=%d\n", g_destructors.load());
  return g_destructors == kRounds * 3 * 2 ? 0 : 1;
}

// --- cancellation ----------------------------------------------------------------------------

pthread_mutex_t g_held = PTHREAD_MUTEX_INITIALIZER;
sem_t g_never_posted;

__attribute__((noinline)) void CleanupBlocksOnMutex(void*) {
  ++g_ready;
  pthread_mutex_lock(&g_held);  // held by main for ever
}

void* CancelledInSemWait(void*) {
  pthread_cleanup_push(CleanupBlocksOnMutex, nullptr);
  ++g_ready;
  for (;;) sem_wait(&g_never_posted);
  pthread_cleanup_pop(0);
  return nullptr;
}

// A thread cancelled in a (hooked) sem_wait whose cleanup handler then blocks on a mutex: the
// report must say where it is now (the mutex), not where it was cancelled.
int CancelCleanupBlocks() {
  sem_init(&g_never_posted, 0, 0);
  pthread_mutex_lock(&g_held);
  pthread_t thread;
  pthread_create(&thread, nullptr, CancelledInSemWait, nullptr);
  WaitReady(1);
  pthread_cancel(thread);
  WaitReady(2);
  std::printf("mutex=%p\n", static_cast<void*>(&g_held));
  return 0;
}

// --- pthread_exit from main ------------------------------------------------------------------

// main ends with pthread_exit while a detached worker still runs for `ms`: the process ends
// when the worker does, with status 0, exactly as without the tool.
int PthreadExitMain(int ms) {
  std::thread([ms] { usleep(ms * 1000); }).detach();
  pthread_exit(nullptr);
}

// The same ending through C11's thrd_exit, which reaches glibc's pthread_exit internally (no
// exported symbol to hook on the way).
extern "C" [[noreturn]] void thrd_exit(int);

int ThrdExitMain(int ms) {
  std::thread([ms] { usleep(ms * 1000); }).detach();
  thrd_exit(0);
}

// The same, and a joinable thread that finished and was never joined: a leak ("finished"),
// reported when the last thread ends (by the shim's library destructor, since neither main's
// return nor exit() is ever seen).
int PthreadExitMainUnjoined() {
  pthread_t never_joined;
  pthread_create(
      &never_joined, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  std::thread([] { usleep(200000); }).detach();
  pthread_exit(nullptr);
}

// --- ends without exit() ---------------------------------------------------------------------

int EndsWithoutExit(const std::string& how) {
  std::thread(BlockForever).detach();
  WaitReady(1);
  std::fflush(stdout);
  if (how == "_exit") _exit(7);
  if (how == "quick_exit") quick_exit(5);
  if (how == "abort") abort();
  return 2;
}

// --- a library that starts a thread and is unloaded ------------------------------------------

int DlcloseLeak(const char* library) {
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "odd_threads: %s\n", dlerror());
    return 1;
  }
  auto start = reinterpret_cast<int (*)()>(dlsym(handle, "plugin_start_leaky_thread"));
  if (start == nullptr || start() != 0) return 1;
  if (dlclose(handle) != 0) return 1;
  bool still_mapped = false;
  FILE* maps = std::fopen("/proc/self/maps", "r");
  char line[512];
  while (maps != nullptr && std::fgets(line, sizeof line, maps) != nullptr) {
    if (std::strstr(line, "rl_unloaded_plugin") != nullptr) still_mapped = true;
  }
  if (maps != nullptr) std::fclose(maps);
  std::printf("unmapped=%d\n", still_mapped ? 0 : 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string scenario = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : "";
  if (scenario == "signals_blocked") return SignalsBlocked();
  if (scenario == "key_destructor_leak") return KeyDestructorLeak();
  if (scenario == "tss_destructor_leak") return TssDestructorLeak();
  if (scenario == "thread_local_destructor_leak") return ThreadLocalDestructorLeak();
  if (scenario == "destructors_clean") return DestructorsClean();
  if (scenario == "cancel_cleanup_blocks") return CancelCleanupBlocks();
  if (scenario == "pthread_exit_main") return PthreadExitMain(std::atoi(arg));
  if (scenario == "pthread_exit_main_unjoined") return PthreadExitMainUnjoined();
  if (scenario == "thrd_exit_main") return ThrdExitMain(std::atoi(arg));
  if (scenario == "ends_without_exit") return EndsWithoutExit(arg);
  if (scenario == "dlclose_leak") return DlcloseLeak(arg);
  std::fprintf(stderr, "odd_threads: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
