// The reachability corpus (issue 16): each case leaves threads blocked in the shapes that leak
// in real programs — and their look-alikes that do not — then returns from main, so the exit
// report judges them. Every thread is named; tests/reachability/corpus_test.cc holds the
// verdict each name must get.
//
//   corpus CASE            run one case, then return from main
//   corpus CASE --wait     run one case, print "ready", and stay (for live dumps)
//
// Threads are parked with barriers rather than sleeps: a case returns only once every thread
// it started is in its wait (or its loop). Objects live on the heap unless the case is about a
// stack, a global or a thread_local, and main drops its own pointers before it returns.
#include <dirent.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <threads.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "include/threadleak.h"

namespace {

#define NOINLINE __attribute__((noinline))

void Name(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

// Waits until the thread named `name` is asleep in the kernel (state S in its stat): its wait
// has been entered.
void AwaitSleeping(const char* name) {
  const std::string needle = std::string("(") + name + ") S";
  for (int tries = 0; tries < 5000; ++tries) {
    DIR* dir = opendir("/proc/self/task");
    bool asleep = false;
    while (dirent* entry = dir != nullptr ? readdir(dir) : nullptr) {
      if (entry->d_name[0] == '.') continue;
      char path[300], line[512] = {};
      snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
      if (FILE* f = fopen(path, "r")) {
        if (fgets(line, sizeof line, f) != nullptr && strstr(line, needle.c_str())) asleep = true;
        fclose(f);
      }
    }
    if (dir != nullptr) closedir(dir);
    if (asleep) return;
    usleep(1000);
  }
  fprintf(stderr, "corpus: thread %s never went to sleep\n", name);
}

// A channel: a queue under a mutex, a condition variable for receivers and a semaphore for
// senders waiting until their item is taken.
struct Channel {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<int> items;
  sem_t taken;
  Channel() { sem_init(&taken, 0, 0); }
};

NOINLINE void Receive(Channel* channel) {
  std::unique_lock<std::mutex> lock(channel->mutex);
  channel->ready.wait(lock, [&] { return !channel->items.empty(); });
}

NOINLINE void SendAndWaitTaken(Channel* channel) {
  {
    std::lock_guard<std::mutex> lock(channel->mutex);
    channel->items.push_back(1);
  }
  sem_wait(&channel->taken);
}

// A thread that sleeps in a loop, holding `keep` on its stack (it could still use it).
NOINLINE void SleepHolding(void* keep) {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    asm volatile("" : : "r"(keep) : "memory");
  }
}

// --- forgotten sender: the receiver waits for an item nobody will send ---
void ForgottenSender() {
  auto* channel = new Channel;
  std::thread([channel] {
    Name("receiver");
    Receive(channel);
  }).detach();
  AwaitSleeping("receiver");
}

// ... and its look-alike: the sender is alive (sleeping) and still holds the channel.
void SlowSender() {
  auto* channel = new Channel;
  std::thread([channel] {
    Name("receiver");
    Receive(channel);
  }).detach();
  std::thread([channel] {
    Name("sender");
    SleepHolding(channel);
  }).detach();
  AwaitSleeping("receiver");
}

// --- forgotten receiver: the sender waits (semaphore) for a receiver that never comes ---
void ForgottenReceiver() {
  auto* channel = new Channel;
  std::thread([channel] {
    Name("sender");
    SendAndWaitTaken(channel);
  }).detach();
  AwaitSleeping("sender");
}

// ... look-alike: a receiver exists, blocked reading a pipe, and holds the channel.
int g_pipe[2];
void ReceiverInIo() {
  auto* channel = new Channel;
  if (pipe(g_pipe) != 0) return;
  std::thread([channel] {
    Name("sender");
    SendAndWaitTaken(channel);
  }).detach();
  std::thread([channel] {
    Name("receiver");
    char byte;
    Channel* volatile keep = channel;
    if (read(g_pipe[0], &byte, 1) == 1) sem_post(&keep->taken);
  }).detach();
  AwaitSleeping("sender");
  AwaitSleeping("receiver");
}

// --- premature return: the function that owns the condition variable returns early ---
struct Handshake {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
};

NOINLINE void WaitForHandshake(Handshake* handshake) {
  std::unique_lock<std::mutex> lock(handshake->mutex);
  handshake->done.wait(lock, [&] { return handshake->finished; });
}

// C style, as such code is: a std::condition_variable's destructor would wait for its waiter
// (pthread_cond_destroy does), and the early return would hang instead of leaking.
struct RawHandshake {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t done = PTHREAD_COND_INITIALIZER;
  bool finished = false;
};

NOINLINE void WaitForRawHandshake(RawHandshake* handshake) {
  pthread_mutex_lock(&handshake->mutex);
  while (!handshake->finished) pthread_cond_wait(&handshake->done, &handshake->mutex);
  pthread_mutex_unlock(&handshake->mutex);
}

void* RawWaiter(void* arg) {
  Name("waiter");
  WaitForRawHandshake(static_cast<RawHandshake*>(arg));
  return nullptr;
}

NOINLINE bool StartAndReturnEarly() {
  RawHandshake handshake;  // on this frame's stack
  pthread_t waiter;
  pthread_create(&waiter, nullptr, RawWaiter, &handshake);
  pthread_detach(waiter);
  AwaitSleeping("waiter");
  return false;  // an error path: never signals, and the frame is gone
}

void PrematureReturn() {
  StartAndReturnEarly();
}

// ... look-alike: the owner's frame is still there (it sleeps in it) and will signal later.
void OwnerStillInFrame() {
  std::thread([] {
    Name("owner");
    Handshake handshake;
    std::thread([&handshake] {
      Name("waiter");
      WaitForHandshake(&handshake);
    }).detach();
    SleepHolding(&handshake);
  }).detach();
  AwaitSleeping("waiter");
  AwaitSleeping("owner");
}

// --- timeout: a timed wait wakes by itself, whoever can reach its condition variable ---
void Timeout() {
  auto* handshake = new Handshake;
  std::thread([handshake] {
    Name("timed");
    std::unique_lock<std::mutex> lock(handshake->mutex);
    handshake->done.wait_for(lock, std::chrono::hours(1), [&] { return handshake->finished; });
  }).detach();
  AwaitSleeping("timed");
}

// --- dropped worker: its owner forgot it without stopping it ---
class Worker {
 public:
  Worker(const char* name) : name_(name), thread_([this] { Loop(); }) { thread_.detach(); }

 private:
  NOINLINE void Loop() {
    Name(name_);
    std::unique_lock<std::mutex> lock(mutex_);
    jobs_ready_.wait(lock, [&] { return !jobs_.empty() || stop_; });
  }
  const char* name_;
  std::mutex mutex_;
  std::condition_variable jobs_ready_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

void DroppedWorker() {
  Worker* worker = new Worker("worker");
  worker = nullptr;  // dropped: neither stopped nor deleted
  (void)worker;
  AwaitSleeping("worker");
}

// --- a pool still referenced by a global: its idle workers are alive, not leaked ---
struct Pool {
  std::vector<std::unique_ptr<Worker>> workers;
};
Pool* g_pool = nullptr;

void PoolInGlobal() {
  g_pool = new Pool;
  g_pool->workers.push_back(std::make_unique<Worker>("pool-1"));
  g_pool->workers.push_back(std::make_unique<Worker>("pool-2"));
  AwaitSleeping("pool-1");
  AwaitSleeping("pool-2");
}

// --- a signalled-but-slow consumer (C11 threads): the producer signals every 10 ms ---
struct C11Queue {
  mtx_t mutex;
  cnd_t cond;
  int items = 0;
};

int Producer(void* arg) {
  Name("producer");
  auto* queue = static_cast<C11Queue*>(arg);
  for (;;) {
    timespec pause = {0, 10'000'000};
    thrd_sleep(&pause, nullptr);
    cnd_signal(&queue->cond);  // a wake-up without an item: the consumer waits on
  }
  return 0;
}

int Consumer(void* arg) {
  Name("consumer");
  auto* queue = static_cast<C11Queue*>(arg);
  mtx_lock(&queue->mutex);
  while (queue->items == 0) cnd_wait(&queue->cond, &queue->mutex);
  mtx_unlock(&queue->mutex);
  return 0;
}

void SignalledSlowConsumer() {
  auto* queue = new C11Queue;
  mtx_init(&queue->mutex, mtx_plain);
  cnd_init(&queue->cond);
  thrd_t consumer, producer;
  thrd_create(&consumer, Consumer, queue);
  thrd_create(&producer, Producer, queue);
  thrd_detach(consumer);
  thrd_detach(producer);
  AwaitSleeping("consumer");
}

// --- reached only through a shared_ptr cycle: the counts stay up, nothing can reach them ---
struct Node {
  std::shared_ptr<Node> other;
  Handshake handshake;
};

void SharedPtrCycle() {
  auto a = std::make_shared<Node>();
  auto b = std::make_shared<Node>();
  a->other = b;
  b->other = a;  // a cycle: neither count ever drops to zero
  Handshake* handshake = &a->handshake;
  std::thread([handshake] {
    Name("cycle-waiter");
    WaitForHandshake(handshake);
  }).detach();
  AwaitSleeping("cycle-waiter");
}

// ... look-alike: a sleeping thread still holds one node of the cycle.
void SharedPtrHeld() {
  auto a = std::make_shared<Node>();
  auto b = std::make_shared<Node>();
  a->other = b;
  b->other = a;
  Handshake* handshake = &b->handshake;
  std::thread([handshake] {
    Name("cycle-waiter");
    WaitForHandshake(handshake);
  }).detach();
  std::thread([a] {
    Name("holder");
    SleepHolding(nullptr);
  }).detach();
  AwaitSleeping("cycle-waiter");
}

// --- through a std::function: a timer thread keeps a callback that will signal ---
struct Timer {
  std::function<void()> callback;
};

void ThroughFunction() {
  auto* handshake = new Handshake;
  std::thread([handshake] {
    Name("fn-waiter");
    WaitForHandshake(handshake);
  }).detach();
  auto* timer = new Timer;
  std::string padding(64, 'x');  // a capture too big for std::function's small buffer
  timer->callback = [handshake, padding] {
    std::lock_guard<std::mutex> lock(handshake->mutex);
    handshake->finished = !padding.empty();
    handshake->done.notify_all();
  };
  std::thread([timer] {
    Name("timer");
    SleepHolding(timer);
  }).detach();
  AwaitSleeping("fn-waiter");
}

// ... look-alike gone wrong: the callback is stored only in the waiter's own object.
struct SelfCallback {
  Handshake handshake;
  std::function<void()> wake;
};

void FunctionOnlyInWaiter() {
  auto* self = new SelfCallback;
  std::string padding(64, 'x');
  self->wake = [self, padding] { self->handshake.done.notify_all(); };
  std::thread([self] {
    Name("fn-waiter");
    WaitForHandshake(&self->handshake);
  }).detach();
  AwaitSleeping("fn-waiter");
}

// --- through a thread_local: a sleeping thread's thread_local pointer reaches the object ---
thread_local Handshake* t_watched = nullptr;

void ThroughThreadLocal() {
  auto* handshake = new Handshake;
  std::thread([handshake] {
    Name("tls-waiter");
    WaitForHandshake(handshake);
  }).detach();
  std::thread([handshake] {
    Name("tls-holder");
    t_watched = handshake;
    SleepHolding(nullptr);
  }).detach();
  AwaitSleeping("tls-waiter");
}

// ... look-alike: only the waiter's own thread_local refers to it.
void OwnThreadLocal() {
  std::thread([] {
    Name("tls-waiter");
    t_watched = new Handshake;
    WaitForHandshake(t_watched);
  }).detach();
  AwaitSleeping("tls-waiter");
}

// --- a mutex held by an abandoned thread: its waiter is abandoned too ---
struct Locked {
  std::mutex lock;
  Handshake handshake;
};

void LockHeldByAbandoned() {
  auto* locked = new Locked;
  std::thread([locked] {
    Name("holder");
    std::lock_guard<std::mutex> guard(locked->lock);
    WaitForHandshake(&locked->handshake);  // never signalled, with the lock held
  }).detach();
  AwaitSleeping("holder");
  std::thread([locked] {
    Name("locker");
    std::lock_guard<std::mutex> guard(locked->lock);
  }).detach();
  AwaitSleeping("locker");
}

// --- std::atomic::wait on a futex nobody can reach; a barrier nobody else arrives at ---
void AtomicWait() {
  auto* flag = new std::atomic<int>(0);
  std::thread([flag] {
    Name("atomic-waiter");
    flag->wait(0);
  }).detach();
  AwaitSleeping("atomic-waiter");
}

void LonelyBarrier() {
  auto* barrier = new pthread_barrier_t;
  pthread_barrier_init(barrier, nullptr, 2);
  std::thread([barrier] {
    Name("barrier");
    pthread_barrier_wait(barrier);
  }).detach();
  AwaitSleeping("barrier");
}

// --- a join of an abandoned thread; a join of a thread that will end ---
void JoinAbandoned() {
  auto* handshake = new Handshake;
  auto* target = new std::thread([handshake] {
    Name("joined");
    WaitForHandshake(handshake);
  });
  AwaitSleeping("joined");
  std::thread([target] {
    Name("joiner");
    target->join();
  }).detach();
  AwaitSleeping("joiner");
}

// --- a forgotten sender in a process with 8 MB of heap (for leak_scan_max_mb) ---
void* g_ballast_memory = nullptr;
void ForgottenSenderBigHeap() {
  // 8 MB the scan would have to read, in a mapping of its own that the kernel never merges with
  // a neighbour (an anonymous one can grow into a thread stack's mapping and be taken for it).
  int fd = memfd_create("ballast", 0);
  if (fd < 0 || ftruncate(fd, 8 << 20) != 0) abort();
  void* ballast = mmap(nullptr, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ballast == MAP_FAILED) abort();
  memset(ballast, 1, 8 << 20);
  g_ballast_memory = ballast;
  ForgottenSender();
}

// --- waiters started by threads that have ended since, each given a heap object at creation ---
// The creators' stacks stay mapped (glibc keeps them for its next threads) and still hold the
// pointers they passed: that memory is no thread's any more, so the waiters are abandoned.
void* OrphanWaiter(void* arg) {
  auto* handshake = static_cast<Handshake*>(arg);
  WaitForHandshake(handshake);
  return nullptr;
}

void* CreateTwoOrphans(void* first_name) {
  const int first = static_cast<int>(reinterpret_cast<intptr_t>(first_name));
  for (int k = 0; k < 2; ++k) {
    pthread_t waiter;
    if (pthread_create(&waiter, nullptr, OrphanWaiter, new Handshake) != 0) abort();
    const std::string name = "orphan-" + std::to_string(first + k);
    pthread_setname_np(waiter, name.c_str());
    pthread_detach(waiter);
    AwaitSleeping(name.c_str());
  }
  return nullptr;
}

void CreatedByEndedThreads() {
  pthread_t creators[2];
  for (int c = 0; c < 2; ++c) {
    pthread_create(&creators[c], nullptr, CreateTwoOrphans,
                   reinterpret_cast<void*>(static_cast<intptr_t>(1 + 2 * c)));
  }
  for (pthread_t creator : creators) pthread_join(creator, nullptr);
}

// --- program memory the kernel merged into a thread stack's mapping ---
// The kernel merges adjacent anonymous mappings with the same protections, so the program's own
// mmap right above a thread's stack becomes part of the stack's mapping. Made deterministic: the
// waiter's stack and the memory above it are reserved together (PROT_NONE), the stack part made
// writable the way glibc makes its stacks, and the program's memory mapped over the rest with
// MAP_FIXED. That memory is the program's, not the waiter's stack: a pointer kept there reaches
// the condition variable (possible); without one the waiter is abandoned (definite).
constexpr size_t kMergedStackBytes = 256 << 10;
constexpr size_t kMergedMemoryBytes = 1 << 20;

// Whether one mapping of /proc/self/maps spans [start, end).
bool OneMapping(uintptr_t start, uintptr_t end) {
  FILE* maps = fopen("/proc/self/maps", "r");
  bool found = false;
  unsigned long from = 0, to = 0;
  char line[512];
  while (maps != nullptr && fgets(line, sizeof line, maps) != nullptr) {
    if (sscanf(line, "%lx-%lx", &from, &to) == 2 && from <= start && end <= to) found = true;
  }
  if (maps != nullptr) fclose(maps);
  return found;
}

void* MergedWaiter(void* arg) {
  Name("merged-waiter");
  WaitForHandshake(static_cast<Handshake*>(arg));
  return nullptr;
}

NOINLINE void StartWaiterBelowProgramMemory(bool keep_pointer) {
  const size_t total = kMergedStackBytes + kMergedMemoryBytes;
  char* reserved =
      static_cast<char*>(mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (reserved == MAP_FAILED || mprotect(reserved, kMergedStackBytes, PROT_READ | PROT_WRITE) != 0)
    abort();
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstack(&attributes, reserved, kMergedStackBytes);
  auto* handshake = new Handshake;
  pthread_t waiter;
  if (pthread_create(&waiter, &attributes, MergedWaiter, handshake) != 0) abort();
  pthread_attr_destroy(&attributes);
  pthread_detach(waiter);
  AwaitSleeping("merged-waiter");
  // The program's memory, right above the stack, with the stack's protections.
  char* memory = static_cast<char*>(mmap(reserved + kMergedStackBytes, kMergedMemoryBytes,
                                         PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
  if (memory != reserved + kMergedStackBytes) abort();
  memset(memory, 0, 4096);
  Handshake* volatile* slot = reinterpret_cast<Handshake* volatile*>(memory + 64);
  *slot = keep_pointer ? handshake : nullptr;
  if (!OneMapping(reinterpret_cast<uintptr_t>(reserved),
                  reinterpret_cast<uintptr_t>(memory) + kMergedMemoryBytes)) {
    fprintf(stderr, "corpus: the kernel did not merge the memory into the stack's mapping\n");
    abort();
  }
}

void MergedIntoStackHoldsPointer() {
  StartWaiterBelowProgramMemory(true);
}

void MergedIntoStackAbandoned() {
  StartWaiterBelowProgramMemory(false);
}

// --- a forgotten sender in a process with 1 GB of heap, all of it reachable from a global ---
// (every block is marked and read: the scan's worst case; for "nothing crashes or hangs").
struct BigBlock {
  BigBlock* next;
  char payload[(64 << 10) - sizeof(BigBlock*)];
};
BigBlock* g_big_heap = nullptr;

void ForgottenSenderGigabyteHeap() {
  for (size_t i = 0; i < (size_t{1} << 30) / sizeof(BigBlock); ++i) {
    auto* block = static_cast<BigBlock*>(malloc(sizeof(BigBlock)));
    if (block == nullptr) abort();
    memset(block->payload, 1, sizeof block->payload);
    block->next = g_big_heap;
    g_big_heap = block;
  }
  ForgottenSender();
}

// --- an API check: the caller goes on, so what its frames hold is reachable ---
void ApiCheck() {
  const uint64_t mark = threadleak_mark();
  ForgottenSender();  // "receiver": abandoned
  auto* held = new Channel;
  std::thread([held] {
    Name("held-receiver");
    Receive(held);
  }).detach();
  AwaitSleeping("held-receiver");
  Channel* volatile keep = held;  // this frame still holds it, and uses it after the check
  printf("check %d\n", threadleak_check(mark, 0));
  fflush(stdout);
  {
    std::lock_guard<std::mutex> lock(keep->mutex);
    keep->items.push_back(1);
  }
  keep->ready.notify_one();
}

// --- a service: a healthy pool in a global, and three leaks made while it runs ---
void Service() {
  PoolInGlobal();
  ForgottenSender();
  ForgottenReceiver();
  DroppedWorker();
}

struct Case {
  const char* name;
  void (*run)();
};

const Case kCases[] = {
    {"forgotten_sender", ForgottenSender},
    {"slow_sender", SlowSender},
    {"forgotten_receiver", ForgottenReceiver},
    {"receiver_in_io", ReceiverInIo},
    {"premature_return", PrematureReturn},
    {"owner_still_in_frame", OwnerStillInFrame},
    {"timeout", Timeout},
    {"dropped_worker", DroppedWorker},
    {"pool_in_global", PoolInGlobal},
    {"signalled_slow_consumer", SignalledSlowConsumer},
    {"shared_ptr_cycle", SharedPtrCycle},
    {"shared_ptr_held", SharedPtrHeld},
    {"through_function", ThroughFunction},
    {"function_only_in_waiter", FunctionOnlyInWaiter},
    {"through_thread_local", ThroughThreadLocal},
    {"own_thread_local", OwnThreadLocal},
    {"lock_held_by_abandoned", LockHeldByAbandoned},
    {"atomic_wait", AtomicWait},
    {"lonely_barrier", LonelyBarrier},
    {"join_abandoned", JoinAbandoned},
    {"service", Service},
    {"api_check", ApiCheck},
    {"forgotten_sender_big_heap", ForgottenSenderBigHeap},
    {"forgotten_sender_1gb_heap", ForgottenSenderGigabyteHeap},
    {"created_by_ended_threads", CreatedByEndedThreads},
    {"merged_into_stack_holds_pointer", MergedIntoStackHoldsPointer},
    {"merged_into_stack_abandoned", MergedIntoStackAbandoned},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: corpus CASE [--wait]\n");
    return 2;
  }
  for (const Case& c : kCases) {
    if (strcmp(c.name, argv[1]) != 0) continue;
    c.run();
    if (argc > 2 && strcmp(argv[2], "--wait") == 0) {
      printf("ready\n");
      fflush(stdout);
      for (;;) pause();
    }
    return 0;
  }
  fprintf(stderr, "corpus: unknown case '%s'\n", argv[1]);
  return 2;
}
