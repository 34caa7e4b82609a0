// Threads left blocked in primitives other than a channel: a future, an atomic wait, a POSIX
// semaphore, a pipe, a barrier, a join, and a thread that finished but was never joined.
//
// Each blocking thread publishes its tid right before the blocking call, and the caller waits
// until the kernel shows it in that call (WaitUntilBlockedIn), so the report never races it.
// Objects a leaked thread waits on are never destroyed: a destroyed promise would wake the
// future with broken_promise, a destroyed condition variable would hang exit.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "patterns.h"

namespace e2e {

namespace blocked_future {

std::atomic<int> g_awaiter_tid{0};

E2E_NOINLINE void AwaitResult(std::future<int> result) {
  NameThisThread("awaiter");
  g_awaiter_tid.store(CurrentTid());
  if (result.get() != 42) Die("wrong result");
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Run(Variant v) {
  auto* promise = new std::promise<int>();
  std::thread awaiter(AwaitResult, promise->get_future());
  WaitUntilBlockedIn(g_awaiter_tid, SYS_futex);
  if (v == Variant::kFixed) {
    promise->set_value(42);
    awaiter.join();
    delete promise;
  } else {
    awaiter.detach();
  }
  E2E_KEEP_FRAME();
}

}  // namespace blocked_future

namespace atomic_wait {

std::atomic<int> g_ready{0};
std::atomic<int> g_waiter_tid{0};

E2E_NOINLINE void AwaitReady() {
  NameThisThread("atomic-waiter");
  g_waiter_tid.store(CurrentTid());
  g_ready.wait(0);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Run(Variant v) {
  std::thread waiter(AwaitReady);
  WaitUntilBlockedIn(g_waiter_tid, SYS_futex);
  if (v == Variant::kFixed) {
    g_ready.store(1);
    g_ready.notify_one();
  }
  Release(waiter, v);
  E2E_KEEP_FRAME();
}

}  // namespace atomic_wait

namespace posix_semaphore {

sem_t g_items;
std::atomic<int> g_taker_tid{0};

E2E_NOINLINE void TakeItem() {
  NameThisThread("sem-taker");
  g_taker_tid.store(CurrentTid());
  while (sem_wait(&g_items) != 0 && errno == EINTR) {
  }
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Run(Variant v) {
  if (sem_init(&g_items, 0, 0) != 0) Die("sem_init");
  std::thread taker(TakeItem);
  WaitUntilBlockedIn(g_taker_tid, SYS_futex);
  if (v == Variant::kFixed) sem_post(&g_items);
  Release(taker, v);
  if (v == Variant::kFixed) sem_destroy(&g_items);
  E2E_KEEP_FRAME();
}

}  // namespace posix_semaphore

namespace pipe_read {

std::atomic<int> g_reader_tid{0};

E2E_NOINLINE void ReadUntilEof(int fd) {
  NameThisThread("pipe-reader");
  g_reader_tid.store(CurrentTid());
  char buf[64];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof buf);
  } while (n > 0 || (n < 0 && errno == EINTR));
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Run(Variant v) {
  int fds[2];
  if (pipe(fds) != 0) Die("pipe");
  std::thread reader(ReadUntilEof, fds[0]);
  WaitUntilBlockedIn(g_reader_tid, SYS_read);
  if (v == Variant::kFixed) close(fds[1]);  // the reader sees end of file
  Release(reader, v);
  if (v == Variant::kFixed) close(fds[0]);
  E2E_KEEP_FRAME();
}

}  // namespace pipe_read

namespace barrier_short {

constexpr int kParties = 3;  // two workers and the caller
pthread_barrier_t g_barrier;
std::atomic<int> g_party_tids[kParties - 1];

E2E_NOINLINE void Arrive(int party) {
  NameThisThread("party");
  g_party_tids[party].store(CurrentTid());
  pthread_barrier_wait(&g_barrier);
  E2E_KEEP_FRAME();
}

// The leaky caller forgets to arrive itself, so the two workers wait for a third party forever.
E2E_NOINLINE void Run(Variant v) {
  if (pthread_barrier_init(&g_barrier, nullptr, kParties) != 0) Die("pthread_barrier_init");
  std::vector<std::thread> parties;
  for (int i = 0; i < kParties - 1; ++i) parties.emplace_back(Arrive, i);
  for (int i = 0; i < kParties - 1; ++i) WaitUntilBlockedIn(g_party_tids[i], SYS_futex);
  if (v == Variant::kFixed) pthread_barrier_wait(&g_barrier);
  for (std::thread& t : parties) Release(t, v);
  if (v == Variant::kFixed) pthread_barrier_destroy(&g_barrier);
  E2E_KEEP_FRAME();
}

}  // namespace barrier_short

namespace join_on_hung {

struct Gate {
  std::mutex mu;
  std::condition_variable opened_cv;
  bool opened = false;
};

std::atomic<int> g_worker_tid{0};
std::atomic<int> g_supervisor_tid{0};

E2E_NOINLINE void HangForever(Gate* gate) {
  NameThisThread("hung-worker");
  std::unique_lock<std::mutex> lock(gate->mu);
  g_worker_tid.store(CurrentTid());
  gate->opened_cv.wait(lock, [&] { return gate->opened; });
  E2E_KEEP_FRAME();
}

// Thread A: starts B and joins it; B never ends, so neither does A.
E2E_NOINLINE void Supervise(Gate* gate) {
  NameThisThread("supervisor");
  std::thread worker(HangForever, gate);
  g_supervisor_tid.store(CurrentTid());
  worker.join();
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Run(Variant v) {
  auto* gate = new Gate();
  std::thread supervisor(Supervise, gate);
  WaitUntilBlockedIn(g_worker_tid, SYS_futex);
  WaitUntilBlockedIn(g_supervisor_tid, SYS_futex);
  if (v == Variant::kFixed) {
    {
      std::lock_guard<std::mutex> lock(gate->mu);
      gate->opened = true;
    }
    gate->opened_cv.notify_all();
  }
  Release(supervisor, v);
  if (v == Variant::kFixed) delete gate;
  E2E_KEEP_FRAME();
}

}  // namespace join_on_hung

namespace unjoined_finished {

std::atomic<int> g_tid{0};

void* Finish(void*) {
  NameThisThread("short-lived");
  g_tid.store(CurrentTid());
  return nullptr;
}

// Starts a joinable thread that returns at once, and (leaky) never joins nor detaches it.
E2E_NOINLINE void Run(Variant v) {
  pthread_t thread;
  if (pthread_create(&thread, nullptr, Finish, nullptr) != 0) Die("pthread_create");
  if (v == Variant::kFixed) {
    pthread_join(thread, nullptr);
  } else {
    WaitUntilGone(g_tid);
  }
  E2E_KEEP_FRAME();
}

}  // namespace unjoined_finished

void BlockedFuture(Variant v) {
  blocked_future::Run(v);
}
void AtomicWait(Variant v) {
  atomic_wait::Run(v);
}
void PosixSemaphore(Variant v) {
  posix_semaphore::Run(v);
}
void PipeRead(Variant v) {
  pipe_read::Run(v);
}
void BarrierShort(Variant v) {
  barrier_short::Run(v);
}
void JoinOnHung(Variant v) {
  join_on_hung::Run(v);
}
void UnjoinedFinished(Variant v) {
  unjoined_finished::Run(v);
}

}  // namespace e2e
