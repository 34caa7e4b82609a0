// Go channel leak patterns ported to threads (see shared/seeds: "The Forgotten Sender", Uber's
// leak patterns, "Leaking Goroutines"). In each leaky variant the leaked threads end up waiting
// on a condition variable (or sleeping, for the periodic loop); the fixed variant applies the fix
// the articles give and joins every thread.
//
// The functions the tests look for in stacks are E2E_NOINLINE and keep their frame.
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "channel.h"
#include "patterns.h"

namespace e2e {
namespace {

using std::chrono_literals::operator""ms;

constexpr std::size_t Capacity(Variant v, std::size_t fixed) {
  return v == Variant::kLeak ? 0 : fixed;
}

}  // namespace

namespace forgotten_sender {

struct Search {
  explicit Search(std::size_t capacity) : results(capacity) {}
  std::latch backend{1};  // the slow backend; it answers only after the caller gave up
  Channel<std::string> results;
};

E2E_NOINLINE void SendResult(std::shared_ptr<Search> search) {
  NameThisThread("search");
  search->backend.wait();
  search->results.Send("some value");
  E2E_KEEP_FRAME();
}

// process() of the article: waits for the search with a deadline, then gives up.
E2E_NOINLINE void Process(Variant v) {
  auto search = std::make_shared<Search>(Capacity(v, 1));
  std::thread sender(SendResult, search);
  if (search->results.RecvFor(20ms)) Die("the search answered before its backend was ready");
  search->backend.count_down();
  if (v == Variant::kLeak) search->results.AwaitBlockedSenders(1);
  Release(sender, v);
  E2E_KEEP_FRAME();
}

}  // namespace forgotten_sender

namespace forgotten_receiver {

E2E_NOINLINE void ReceiveValue(std::shared_ptr<Channel<int>> values) {
  NameThisThread("receiver");
  if (auto value = values->Recv()) Die("nobody sends, yet received " + std::to_string(*value));
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Listen(Variant v) {
  auto values = std::make_shared<Channel<int>>();
  std::thread receiver(ReceiveValue, values);
  values->AwaitBlockedReceivers(1);
  if (v == Variant::kFixed) values->Close();
  Release(receiver, v);
  E2E_KEEP_FRAME();
}

}  // namespace forgotten_receiver

namespace premature_return {

E2E_NOINLINE void FetchUser(std::shared_ptr<Channel<std::string>> out) {
  NameThisThread("fetch-user");
  out->Send("gopher");
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void FetchOrders(std::shared_ptr<Channel<int>> out) {
  NameThisThread("fetch-orders");
  out->Send(3);
  E2E_KEEP_FRAME();
}

// Starts both fetches, then returns on a validation error before reading either result.
E2E_NOINLINE int BuildPage(Variant v, const std::string& request) {
  auto user = std::make_shared<Channel<std::string>>(Capacity(v, 1));
  auto orders = std::make_shared<Channel<int>>(Capacity(v, 1));
  std::thread user_fetch(FetchUser, user);
  std::thread orders_fetch(FetchOrders, orders);
  if (request.empty()) {
    if (v == Variant::kLeak) {
      user->AwaitBlockedSenders(1);
      orders->AwaitBlockedSenders(1);
    }
    Release(user_fetch, v);
    Release(orders_fetch, v);
    return -1;
  }
  const int page = static_cast<int>(user->Recv()->size()) + *orders->Recv();
  user_fetch.join();
  orders_fetch.join();
  return page;
}

}  // namespace premature_return

namespace timeout {

struct Operation {
  explicit Operation(std::size_t capacity) : done(capacity) {}
  std::latch slow{1};  // the operation completes only once the caller stopped waiting
  Channel<bool> done;
};

E2E_NOINLINE void RunOperation(std::shared_ptr<Operation> op) {
  NameThisThread("operation");
  op->slow.wait();
  op->done.Send(true);
  E2E_KEEP_FRAME();
}

E2E_NOINLINE bool CallWithTimeout(Variant v, std::chrono::milliseconds limit) {
  auto op = std::make_shared<Operation>(Capacity(v, 1));
  std::thread worker(RunOperation, op);
  const bool finished = op->done.RecvFor(limit).has_value();
  op->slow.count_down();
  if (v == Variant::kLeak) op->done.AwaitBlockedSenders(1);
  Release(worker, v);
  return finished;
}

}  // namespace timeout

namespace many_senders {

constexpr int kReplicas = 3;

E2E_NOINLINE void SendReply(std::shared_ptr<Channel<int>> replies, int replica) {
  NameThisThread("replica");
  replies->Send(replica);
  E2E_KEEP_FRAME();
}

// Asks every replica and keeps the first reply.
E2E_NOINLINE int FirstReply(Variant v) {
  auto replies = std::make_shared<Channel<int>>(Capacity(v, kReplicas));
  std::vector<std::thread> senders;
  for (int i = 0; i < kReplicas; ++i) senders.emplace_back(SendReply, replies, i);
  const int first = *replies->Recv();
  if (v == Variant::kLeak) replies->AwaitBlockedSenders(kReplicas - 1);
  for (std::thread& t : senders) Release(t, v);
  return first;
}

}  // namespace many_senders

namespace consumer_loop {

E2E_NOINLINE void SumAll(std::shared_ptr<Channel<int>> items) {
  NameThisThread("consumer");
  long sum = 0;
  for (int item : *items) sum += item;
  if (sum != 6) Die("consumer summed " + std::to_string(sum));
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void Produce(Variant v) {
  auto items = std::make_shared<Channel<int>>(1);
  std::thread consumer(SumAll, items);
  for (int i = 1; i <= 3; ++i) items->Send(i);
  if (v == Variant::kFixed) {
    items->Close();
  } else {
    items->AwaitBlockedReceivers(1);
  }
  Release(consumer, v);
  E2E_KEEP_FRAME();
}

}  // namespace consumer_loop

namespace worker_without_stop {

// The Writer of "Leaking Goroutines": a queue drained by its own thread until Stop().
class Writer {
 public:
  E2E_NOINLINE Writer() : queue_(10), worker_(&Writer::Process, this) {}
  void Write(std::string message) { queue_.Send(std::move(message)); }
  void AwaitIdle() { queue_.AwaitBlockedReceivers(1); }
  void Stop() {
    queue_.Close();
    worker_.join();
  }

 private:
  E2E_NOINLINE void Process() {
    NameThisThread("writer");
    while (std::optional<std::string> message = queue_.Recv()) written_ += message->size();
    E2E_KEEP_FRAME();
  }

  Channel<std::string> queue_;
  std::size_t written_ = 0;
  std::thread worker_;
};

// The caller drops its only reference without stopping the writer (Go: `NewWriter()` in test()).
E2E_NOINLINE void Test(Variant v) {
  auto* writer = new Writer();
  writer->Write("hello");
  writer->AwaitIdle();
  if (v == Variant::kFixed) {
    writer->Stop();
    delete writer;
  }
  E2E_KEEP_FRAME();
}

}  // namespace worker_without_stop

namespace periodic {

// The compaction loop of "Leaking Goroutines": without a stop it sleeps forever.
class Storage {
 public:
  E2E_NOINLINE explicit Storage(Variant v)
      : compactor_(v == Variant::kLeak ? &Storage::CompactForever : &Storage::CompactUntilStopped,
                   this) {}
  const std::atomic<int>& compactor_tid() const { return compactor_tid_; }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    stopped_.notify_all();
    compactor_.join();
  }

 private:
  E2E_NOINLINE void CompactForever() {
    NameThisThread("compactor");
    compactor_tid_.store(CurrentTid());
    for (;;) {
      std::this_thread::sleep_for(100ms);
      compactions_.fetch_add(1);
    }
  }

  // The fix: the wait doubles as the stop signal (Go: select on time.After and a stop channel).
  E2E_NOINLINE void CompactUntilStopped() {
    NameThisThread("compactor");
    compactor_tid_.store(CurrentTid());
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_.wait_for(lock, 100ms, [&] { return stop_; })) compactions_.fetch_add(1);
    E2E_KEEP_FRAME();
  }

  std::atomic<int> compactor_tid_{0};
  std::atomic<int> compactions_{0};
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread compactor_;
};

E2E_NOINLINE void Open(Variant v) {
  auto* storage = new Storage(v);
  if (v == Variant::kLeak) {
    WaitUntilBlockedIn(storage->compactor_tid(), SYS_clock_nanosleep);
  } else {
    storage->Stop();
    delete storage;
  }
  E2E_KEEP_FRAME();
}

}  // namespace periodic

void ForgottenSender(Variant v) {
  forgotten_sender::Process(v);
}
void ForgottenReceiver(Variant v) {
  forgotten_receiver::Listen(v);
}
void PrematureReturn(Variant v) {
  if (premature_return::BuildPage(v, "") != -1) Die("the request was valid");
}
void Timeout(Variant v) {
  if (timeout::CallWithTimeout(v, 20ms)) Die("the operation finished in time");
}
void ManySendersOneReader(Variant v) {
  many_senders::FirstReply(v);
}
void ConsumerLoopNeverClosed(Variant v) {
  consumer_loop::Produce(v);
}
void WorkerWithoutStop(Variant v) {
  worker_without_stop::Test(v);
}
void PeriodicLoopWithoutStop(Variant v) {
  periodic::Open(v);
}

}  // namespace e2e
