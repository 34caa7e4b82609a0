// Threads a report must describe without touching them (issue 12, items 4 and 5, and the scale
// check).
//
// Usage: tp_threads MODE TRIGGER_FIFO [N] (protocol: scenario.h)
//
//   blocked_every_signal  three threads ("blocker") block every signal and wait on a condition
//                         variable in BlockedEverySignalWorker; main returns after the trigger,
//                         leaving them behind
//   small_stack           a thread ("smallstack") with a 64 KiB stack recurses until about 3 KiB
//                         are left, then blocks in a pipe read; main returns after the trigger
//   freed_condvar         a thread ("cvwaiter") sleeps in pthread_cond_wait on a malloc'd
//                         condition variable that main then frees and reuses; after the trigger
//                         main prints whether the waiter ever returned, and returns
//   leak_at_exit          a thread ("leaker") blocks in a pipe read and main returns at once
//                         (run under gdb; TRIGGER_FIFO is not used)
//   scale N               N threads ("parked") block every signal and wait on one condition
//                         variable; main prints the CLOCK_MONOTONIC time at which it calls exit
//                         (TRIGGER_FIFO is not used)
#include <signal.h>

#include <string>

#include "tests/transparency/programs/scenario.h"

namespace {

using scenario::PrintLine;

pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_parked_changed = PTHREAD_COND_INITIALIZER;
pthread_cond_t g_never_signalled = PTHREAD_COND_INITIALIZER;
int g_parked = 0;

// Counts a thread as parked (under g_mutex) for main's AwaitParked.
void NoteParkedLocked() {
  ++g_parked;
  pthread_cond_broadcast(&g_parked_changed);
}

void AwaitParked(int count) {
  pthread_mutex_lock(&g_mutex);
  while (g_parked < count) pthread_cond_wait(&g_parked_changed, &g_mutex);
  pthread_mutex_unlock(&g_mutex);
}

void BlockEverySignal() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

pthread_t Start(void* (*body)(void*), void* argument, size_t stack_size = 0) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  if (stack_size != 0) pthread_attr_setstacksize(&attributes, stack_size);
  pthread_t thread;
  if (pthread_create(&thread, &attributes, body, argument) != 0) scenario::Fail("pthread_create");
  pthread_attr_destroy(&attributes);
  return thread;
}

// --- blocked_every_signal and scale -------------------------------------------------------------

// The function every report must show in these threads' stacks: nothing can interrupt them,
// so their stack can only be read from outside.
extern "C" __attribute__((noinline)) void BlockedEverySignalWorker() {
  pthread_mutex_lock(&g_mutex);
  NoteParkedLocked();
  for (;;) pthread_cond_wait(&g_never_signalled, &g_mutex);  // never signalled: leaked
}

void* BlockerMain(void* name) {
  pthread_setname_np(pthread_self(), static_cast<const char*>(name));
  BlockEverySignal();
  BlockedEverySignalWorker();
  return nullptr;
}

int BlockedEverySignal(const char* fifo) {
  int trigger = scenario::OpenTrigger(fifo);
  constexpr int kBlockers = 3;
  for (int i = 0; i < kBlockers; ++i) Start(BlockerMain, const_cast<char*>("blocker"));
  AwaitParked(kBlockers);
  PrintLine("ready");
  scenario::AwaitTrigger(trigger);
  PrintLine("returning from main with 3 threads blocked");
  return 0;
}

int Scale(int count) {
  for (int i = 0; i < count; ++i) {
    Start(BlockerMain, const_cast<char*>("parked"), 128 * 1024);
  }
  AwaitParked(count);
  PrintLine("parked=" + std::to_string(count));
  int64_t exit_at = scenario::MonotonicNanos();
  PrintLine("exit_at_ns=" + std::to_string(exit_at));
  exit(0);
}

// --- small_stack --------------------------------------------------------------------------------

constexpr size_t kSmallStack = 64 * 1024;
constexpr uintptr_t kLeftBytes = 3 * 1024;
int g_never_written[2];
std::atomic<uintptr_t> g_stack_left{0};
std::atomic<pid_t> g_small_stack_tid{0};

// The lowest usable address of the stack `address` lies in: the start of its mapping in
// /proc/self/maps (the guard page below is a mapping of its own, with no access).
uintptr_t StackLow(uintptr_t address) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (maps == nullptr) scenario::Fail("maps");
  unsigned long low = 0, high = 0;
  uintptr_t found = 0;
  char line[512];
  while (fgets(line, sizeof line, maps) != nullptr) {
    if (sscanf(line, "%lx-%lx", &low, &high) == 2 && address >= low && address < high) {
      found = low;
    }
  }
  fclose(maps);
  return found;
}

// Near the limit the thread makes one call, read, and nothing else: the program is linked with
// -z now, since resolving a symbol lazily (_dl_runtime_resolve saves the whole vector state on
// the stack) would itself overflow a stack this short.
extern "C" __attribute__((noinline)) void BlockNearTheStackLimit(uintptr_t low) {
  uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  g_stack_left.store(here - low);
  char byte;
  ssize_t n = read(g_never_written[0], &byte, 1);  // nobody writes: blocks until exit
  g_stack_left.store(static_cast<uintptr_t>(n));   // not reached
}

// About 250 bytes a level; stops once the next level would leave less than kLeftBytes.
extern "C" __attribute__((noinline)) void DescendTowardsTheStackLimit(uintptr_t low, int depth) {
  volatile char pad[200];
  pad[0] = static_cast<char>(depth);
  uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (here - low > kLeftBytes + 300) {
    DescendTowardsTheStackLimit(low, depth + 1);
  } else {
    BlockNearTheStackLimit(low);
  }
  pad[1] = pad[0];  // used after the call: no sibling call, every level keeps its frame
}

void* SmallStackMain(void*) {
  pthread_setname_np(pthread_self(), "smallstack");
  g_small_stack_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  int local = 0;
  uintptr_t low = StackLow(reinterpret_cast<uintptr_t>(&local));
  if (low == 0) scenario::Fail("no mapping holds the stack");
  DescendTowardsTheStackLimit(low, 0);
  return nullptr;
}

int SmallStack(const char* fifo) {
  int trigger = scenario::OpenTrigger(fifo);
  if (pipe(g_never_written) != 0) scenario::Fail("pipe");
  Start(SmallStackMain, nullptr, kSmallStack);
  while (g_stack_left.load() == 0) usleep(1000);
  scenario::AwaitAsleep(g_small_stack_tid.load(), SYS_read);
  // Where exactly the recursion stops depends on what sits at the top of the stack (static TLS
  // grows with the preloaded shim): the line says only that about 3 KiB are left.
  uintptr_t left = g_stack_left.load();
  fprintf(stderr, "stack left: %zu bytes\n", static_cast<size_t>(left));
  PrintLine(std::string("stack_left_about_3k=") + (left >= 2048 && left <= 4096 ? "yes" : "no"));
  PrintLine("ready");
  scenario::AwaitTrigger(trigger);
  PrintLine("returning from main with the small-stack thread blocked");
  return 0;
}

// --- freed_condvar ------------------------------------------------------------------------------

pthread_cond_t* g_condition = nullptr;
std::atomic<pid_t> g_waiter_tid{0};
std::atomic<bool> g_waiter_returned{false};

__attribute__((noinline)) void* CondvarWaiterMain(void*) {
  pthread_setname_np(pthread_self(), "cvwaiter");
  pthread_mutex_lock(&g_mutex);
  g_waiter_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  // One wait, no predicate: nothing ever signals it, so any return is a wake-up it should not
  // have had.
  pthread_cond_wait(g_condition, &g_mutex);
  g_waiter_returned.store(true);
  pthread_mutex_unlock(&g_mutex);
  return nullptr;
}

int FreedCondvar(const char* fifo) {
  int trigger = scenario::OpenTrigger(fifo);
  g_condition = static_cast<pthread_cond_t*>(malloc(sizeof(pthread_cond_t)));
  pthread_cond_init(g_condition, nullptr);
  Start(CondvarWaiterMain, nullptr);
  while (g_waiter_tid.load() == 0) usleep(1000);
  scenario::AwaitAsleep(g_waiter_tid.load(), SYS_futex);  // asleep on the condvar's futex word

  // The bug under test: the condition variable is freed under its waiter, and the memory is
  // reused for something else. Bytes of 2 make glibc's condvar see pending signals, so a waiter
  // woken for any reason returns; left alone it sleeps on forever.
  free(g_condition);
  void* reused = malloc(sizeof(pthread_cond_t));
  memset(reused, 2, sizeof(pthread_cond_t));
  PrintLine("ready");
  scenario::AwaitTrigger(trigger);
  usleep(100'000);  // a waiter woken by the last dump has returned by now
  PrintLine(std::string("waiter_returned=") + (g_waiter_returned.load() ? "yes" : "no"));
  PrintLine("returning from main");
  return 0;
}

// --- leak_at_exit (under gdb) -------------------------------------------------------------------

std::atomic<pid_t> g_leaker_tid{0};

__attribute__((noinline)) void* LeakerMain(void*) {
  pthread_setname_np(pthread_self(), "leaker");
  g_leaker_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
  char byte;
  ssize_t n = read(g_never_written[0], &byte, 1);
  fprintf(stderr, "the leaker returned %zd\n", n);
  return nullptr;
}

int LeakAtExit() {
  if (pipe(g_never_written) != 0) scenario::Fail("pipe");
  Start(LeakerMain, nullptr);
  while (g_leaker_tid.load() == 0) usleep(1000);
  scenario::AwaitAsleep(g_leaker_tid.load(), SYS_read);
  PrintLine("returning from main with the leaker blocked");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODE TRIGGER_FIFO [N]\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "blocked_every_signal") return BlockedEverySignal(argv[2]);
  if (mode == "small_stack") return SmallStack(argv[2]);
  if (mode == "freed_condvar") return FreedCondvar(argv[2]);
  if (mode == "leak_at_exit") return LeakAtExit();
  if (mode == "scale") return Scale(argc > 3 ? atoi(argv[3]) : 2000);
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
