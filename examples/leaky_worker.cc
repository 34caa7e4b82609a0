// The bundled example: a request handler that gives up waiting for a worker's answer, so the
// worker stays blocked forever trying to hand the answer over — Go's "forgotten sender" in C++.
// Run it under threadleak to see the report:  threadleak -- ./leaky_worker
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

namespace {

// A rendezvous for one answer: the sender waits until the receiver has taken it.
class Handoff {
 public:
  __attribute__((noinline)) void Send(int value) {
    std::unique_lock lock(mutex_);
    value_ = value;
    changed_.notify_all();
    changed_.wait(lock, [this] { return taken_; });  // nobody will ever take it
  }

  __attribute__((noinline)) std::optional<int> Receive(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return value_.has_value(); })) return {};
    taken_ = true;
    changed_.notify_all();
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<int> value_;
  bool taken_ = false;
};

__attribute__((noinline)) int SlowLookup() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return 42;
}

__attribute__((noinline)) void HandleRequest(Handoff& handoff) {
  std::thread([&handoff] { handoff.Send(SlowLookup()); }).detach();
  if (auto answer = handoff.Receive(std::chrono::milliseconds(10))) {
    std::printf("answer: %d\n", *answer);
  } else {
    std::printf("request timed out; the worker is left behind\n");
  }
}

}  // namespace

int main() {
  static Handoff* handoff = new Handoff;  // outlives main, like a long-lived service object
  HandleRequest(*handoff);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the worker is now stuck
  return 0;
}
