// Item 3 of issue 8: exceptions, signal handlers, alternate signal stacks and deep recursion.
// Each scenario checks its own expectations and must behave the same with and without the
// shim; the leaky ones are checked against the report.
//
// Usage: unwinding SCENARIO [ARG]. Prints KEY=VALUE lines; exits 0 when the program saw what it
// expected, 1 otherwise.
#include <link.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scripts/dump_request.h"

namespace {

int g_failures = 0;

#define EXPECT(condition)                                                             \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::printf("unwinding: %s:%d: expected %s\n", __FILE__, __LINE__, #condition); \
      ++g_failures;                                                                   \
    }                                                                                 \
  } while (0)

// --- exceptions across threads ---------------------------------------------------------------

struct Counted {
  static inline std::atomic<int> live{0};
  Counted() { ++live; }
  ~Counted() { --live; }
};

__attribute__((noinline)) int ThrowsDeep(int depth) {
  Counted guard;
  if (depth == 0) throw std::runtime_error("deep");
  return ThrowsDeep(depth - 1) + 1;
}

// Exceptions thrown in one thread and caught in another (futures, exception_ptr), through
// many frames with destructors, while other threads wait in hooked calls.
int ExceptionsAcrossThreads() {
  std::mutex mutex;
  std::condition_variable cv;
  bool stop = false;
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return stop; });
  });
  for (int i = 0; i < 200; ++i) {
    std::future<int> future = std::async(std::launch::async, [] { return ThrowsDeep(20); });
    try {
      future.get();
      EXPECT(false);
    } catch (const std::runtime_error& e) {
      EXPECT(std::string(e.what()) == "deep");
    }
    std::exception_ptr captured;
    std::thread([&] {
      try {
        ThrowsDeep(5);
      } catch (...) {
        captured = std::current_exception();
      }
    }).join();
    try {
      std::rethrow_exception(captured);
    } catch (const std::runtime_error&) {
    }
    std::promise<void> promise;
    std::thread setter(
        [&] { promise.set_exception(std::make_exception_ptr(std::logic_error("x"))); });
    try {
      promise.get_future().get();
      EXPECT(false);
    } catch (const std::logic_error&) {
    }
    setter.join();
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT(Counted::live == 0);
  std::printf("failures=%d\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}

// --- the program's own signal handlers -------------------------------------------------------

std::atomic<int> g_usr1{0};
std::atomic<int> g_usr2{0};
std::atomic<int> g_rt_received[64];
std::atomic<intptr_t> g_rt_values[64];

void OnUsr1(int) {
  ++g_usr1;
}

void OnUsr2(int) {
  ++g_usr2;
}

void OnRealtime(int signal, siginfo_t* info, void*) {
  int index = signal - SIGRTMIN;
  if (index >= 0 && index < 64) {
    g_rt_values[index] = reinterpret_cast<intptr_t>(info->si_value.sival_ptr);
    ++g_rt_received[index];
  }
}

void Install(int signal, void (*handler)(int), int flags) {
  struct sigaction action = {};
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  EXPECT(sigaction(signal, &action, nullptr) == 0);
}

// Interrupts `target` with `signal` until `done` says the interrupted call returned.
void InterruptUntil(pthread_t target, int signal, const std::atomic<bool>& done) {
  while (!done) {
    pthread_kill(target, signal);
    usleep(2000);
  }
}

// What libc promises about EINTR and SA_RESTART must hold with the shim's hooks in between:
// sem_wait and nanosleep fail with EINTR under a handler without SA_RESTART, read() restarts
// under SA_RESTART, every real-time signal reaches the program's handler with its value, and
// a storm of signals between threads that create, join and lock loses none.
int OwnHandlers() {
  Install(SIGUSR1, OnUsr1, 0);  // no SA_RESTART
  Install(SIGUSR2, OnUsr2, 0);  // the shim's default dump signal: it must step aside
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    struct sigaction action = {};
    action.sa_sigaction = OnRealtime;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    EXPECT(sigaction(signal, &action, nullptr) == 0);
  }

  sem_t semaphore;
  sem_init(&semaphore, 0, 0);
  std::atomic<bool> done{false};
  int sem_result = 0, sem_errno = 0;
  std::thread sem_waiter([&] {
    sem_result = sem_wait(&semaphore);
    sem_errno = errno;
    done = true;
  });
  InterruptUntil(sem_waiter.native_handle(), SIGUSR1, done);
  sem_waiter.join();
  EXPECT(sem_result == -1 && sem_errno == EINTR);

  done = false;
  int sleep_result = 0, sleep_errno = 0;
  timespec remaining = {};
  std::thread sleeper([&] {
    timespec ten_seconds = {10, 0};
    sleep_result = nanosleep(&ten_seconds, &remaining);
    sleep_errno = errno;
    done = true;
  });
  InterruptUntil(sleeper.native_handle(), SIGUSR1, done);
  sleeper.join();
  EXPECT(sleep_result == -1 && sleep_errno == EINTR && remaining.tv_sec > 0);

  int fds[2];
  EXPECT(pipe(fds) == 0);
  std::atomic<bool> reading{false};
  ssize_t read_result = 0;
  char byte = 0;
  std::thread reader([&] {
    reading = true;
    read_result = read(fds[0], &byte, 1);
  });
  while (!reading) std::this_thread::yield();
  for (int i = 0; i < 20; ++i) {
    pthread_kill(reader.native_handle(), SIGRTMIN + 1);  // SA_RESTART: read() goes on
    usleep(1000);
  }
  EXPECT(write(fds[1], "x", 1) == 1);
  reader.join();
  EXPECT(read_result == 1 && byte == 'x');

  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    sigval value;
    value.sival_ptr = reinterpret_cast<void*>(static_cast<intptr_t>(signal * 7));
    EXPECT(sigqueue(getpid(), signal, value) == 0);
  }
  for (int i = 0; i < 1000; ++i) {
    bool all = true;
    for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
      all = all && g_rt_received[signal - SIGRTMIN] > 0;
    }
    if (all) break;
    usleep(1000);
  }
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    EXPECT(g_rt_received[signal - SIGRTMIN] >= 1);
    EXPECT(g_rt_values[signal - SIGRTMIN] == signal * 7);
  }

  // A storm: signals between threads that keep entering the tool.
  const int before = g_usr1;
  const int before2 = g_usr2;
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::thread> busy;
  for (int i = 0; i < 3; ++i) {
    busy.emplace_back([&] {
      while (!stop) {
        std::thread([] {}).join();
        std::lock_guard lock(mutex);
      }
    });
  }
  constexpr int kSent = 3000;
  int sent = 0;
  for (int i = 0; i < kSent; ++i) {
    if (pthread_kill(busy[i % busy.size()].native_handle(), i % 2 ? SIGUSR1 : SIGUSR2) == 0) {
      ++sent;
    }
    if (i % 64 == 0) usleep(100);
  }
  usleep(50000);
  stop = true;
  for (std::thread& t : busy) t.join();
  // Standard signals coalesce while pending: some may merge, none may be lost entirely, and
  // the program must not have been killed by one.
  EXPECT(g_usr1 - before > 0);
  EXPECT(g_usr2 - before2 > 0);
  std::printf("sent=%d\nusr1_handled=%d\nusr2_handled=%d\nfailures=%d\n", sent, g_usr1 - before,
              g_usr2 - before2, g_failures);
  return g_failures == 0 ? 0 : 1;
}

// --- leaks the report must describe ----------------------------------------------------------

sem_t g_never;
sem_t g_entered;
std::atomic<int> g_program_handler_calls{0};

__attribute__((noinline)) void AltstackHandlerBlocks(int) {
  sem_post(&g_entered);
  while (sem_wait(&g_never) != 0) {
  }
}

__attribute__((noinline)) void WorkerBeforeTheSignal() {
  for (;;) pause();
}

// A leaked thread blocked inside its SIGUSR1 handler, on an alternate signal stack of `size`
// bytes: from mmap with a guard page ("mmap"), or from malloc ("malloc", as many programs do).
int AltstackLeak(size_t size, const std::string& allocation) {
  sem_init(&g_never, 0, 0);
  sem_init(&g_entered, 0, 0);
  Install(SIGUSR1, AltstackHandlerBlocks, SA_ONSTACK);
  std::thread worker([size, allocation] {
    stack_t stack = {};
    if (allocation == "mmap") {
      const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      const size_t rounded = (size + page - 1) / page * page;
      char* base = static_cast<char*>(mmap(nullptr, rounded + page, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      mprotect(base, page, PROT_NONE);  // a guard page below, as careful programs do
      stack.ss_sp = base + page;
      stack.ss_size = rounded;
    } else {
      stack.ss_sp = std::malloc(size);
      stack.ss_size = size;
    }
    EXPECT(sigaltstack(&stack, nullptr) == 0);
    WorkerBeforeTheSignal();
  });
  usleep(10000);
  pthread_kill(worker.native_handle(), SIGUSR1);
  while (sem_wait(&g_entered) != 0) {
  }
  usleep(20000);
  worker.detach();
  return g_failures == 0 ? 0 : 1;
}

// The program owns the shim's sampling signal (SIGRTMAX-3) and a SIGRTMIN handler; a leaked
// thread is blocked. The report must still be made, and must not call the program's handler.
void CountProgramHandler(int) {
  ++g_program_handler_calls;
  static const char kLine[] = "program handler called\n";
  (void)!write(STDOUT_FILENO, kLine, sizeof kLine - 1);
}

__attribute__((noinline)) void LeakedWaiterWithOwnSignals() {
  sem_post(&g_entered);
  while (sem_wait(&g_never) != 0) {
  }
}

int OwnSignalsLeak() {
  sem_init(&g_never, 0, 0);
  sem_init(&g_entered, 0, 0);
  Install(SIGRTMAX - 3, CountProgramHandler, SA_RESTART);
  Install(SIGRTMIN, CountProgramHandler, SA_RESTART);
  std::thread(LeakedWaiterWithOwnSignals).detach();
  while (sem_wait(&g_entered) != 0) {
  }
  usleep(20000);
  return 0;
}

// --- deep recursion --------------------------------------------------------------------------

uintptr_t g_stack_low = 0;
size_t g_margin = 0;
std::atomic<bool> g_deep{false};
std::atomic<bool> g_release_deep{false};     // never set
std::mutex& g_deep_mutex = *new std::mutex;  // never destroyed: exit without the tool is clean
std::condition_variable& g_deep_never = *new std::condition_variable;

__attribute__((noinline)) void BlockedNearStackLimit() {
  std::unique_lock lock(g_deep_mutex);
  g_deep = true;
  g_deep_never.wait(lock, [] { return g_release_deep.load(); });
}

__attribute__((noinline)) void Recurse(int depth) {
  volatile char pad[256];
  pad[0] = static_cast<char>(depth);
  if (reinterpret_cast<uintptr_t>(&pad[0]) - g_stack_low < g_margin) {
    BlockedNearStackLimit();
    return;
  }
  Recurse(depth + 1);
  pad[1] = pad[0];  // not a tail call
}

// A leaked thread that recursed until only `margin` bytes of its stack are left, then blocks
// (enough for the wait itself: the program runs fine without the tool). Making the report must
// not overflow that stack.
int DeepRecursion(size_t margin) {
  g_margin = margin;
  std::thread([] {
    pthread_attr_t attributes;
    pthread_getattr_np(pthread_self(), &attributes);
    void* address = nullptr;
    size_t size = 0;
    pthread_attr_getstack(&attributes, &address, &size);
    pthread_attr_destroy(&attributes);
    g_stack_low = reinterpret_cast<uintptr_t>(address);
    Recurse(0);
  }).detach();
  while (!g_deep) usleep(1000);
  usleep(20000);
  std::printf("deep=1\n");
  return 0;
}

// --- a dump while a thread holds the loader's lock --------------------------------------------

// Twelve workers wait on a condition variable while main, inside a dl_iterate_phdr callback
// (the loader's lock held, as in dlopen), asks for a dump of itself and stays there 1.5 s. The
// dump must finish and the program go on: it ends with status 0 once main releases the workers.
int DumpWhileHoldingTheLoaderLock() {
  static std::mutex mutex;
  static std::condition_variable released;
  static bool release = false;
  std::vector<std::thread> workers;
  for (int i = 0; i < 12; ++i) {
    workers.emplace_back([] {
      std::unique_lock lock(mutex);
      released.wait(lock, [] { return release; });
    });
  }
  usleep(50'000);
  dl_iterate_phdr(
      [](dl_phdr_info*, size_t, void*) -> int {
        threadleak::RequestDump(getpid());
        usleep(1'500'000);
        return 1;
      },
      nullptr);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  released.notify_all();
  for (std::thread& worker : workers) worker.join();
  std::printf("released=1\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string scenario = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : "";
  if (scenario == "exceptions_across_threads") return ExceptionsAcrossThreads();
  if (scenario == "own_handlers") return OwnHandlers();
  if (scenario == "altstack_leak")
    return AltstackLeak(std::strtoul(arg, nullptr, 10), argc > 3 ? argv[3] : "mmap");
  if (scenario == "own_signals_leak") return OwnSignalsLeak();
  if (scenario == "dump_holding_loader_lock") return DumpWhileHoldingTheLoaderLock();
  if (scenario == "deep_recursion") return DeepRecursion(std::strtoul(arg, nullptr, 10));
  std::fprintf(stderr, "unwinding: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
