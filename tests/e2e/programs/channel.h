// A Go-like channel for the end-to-end test programs: std::mutex + std::condition_variable, so a
// thread stuck in it is blocked in pthread_cond_wait (or pthread_cond_clockwait with a timeout).
//
//   auto ch = std::make_shared<Channel<int>>();     // unbuffered: Send waits for a receiver
//   auto buf = std::make_shared<Channel<int>>(4);   // buffered: Send waits only when full
//   ch->Send(1);  ch->Recv();  ch->RecvFor(10ms);  ch->Close();  for (int v : *ch) {...}
//
// Share a channel with a thread through a shared_ptr: a leaked thread keeps its channel alive,
// so no condition_variable is ever destroyed under a waiter (which would hang in
// pthread_cond_destroy).
//
// AwaitBlockedSenders / AwaitBlockedReceivers are test hooks: they return once that many threads
// are parked in Send / Recv, which is what a leak report should then show.
#ifndef THREADLEAK_TESTS_E2E_PROGRAMS_CHANNEL_H_
#define THREADLEAK_TESTS_E2E_PROGRAMS_CHANNEL_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace e2e {

template <typename T>
class Channel {
 public:
  explicit Channel(std::size_t capacity = 0) : capacity_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Blocks until a receiver takes the value (unbuffered) or there is room (buffered). Returns
  // false, dropping the value, if the channel is or becomes closed (Go would panic).
  bool Send(T value) {
    std::unique_lock<std::mutex> lock(mu_);
    // An unbuffered channel admits a value only for a receiver already waiting for one, so a
    // value is never left behind when the sender returns.
    auto admitted = [&] { return closed_ || queue_.size() < capacity_ + waiting_receivers_; };
    if (!admitted()) {
      ++blocked_senders_;
      changed_.notify_all();
      changed_.wait(lock, admitted);
      --blocked_senders_;
    }
    if (closed_) return false;
    queue_.push_back(std::move(value));
    changed_.notify_all();
    return true;
  }

  // Blocks until a value arrives; nullopt once the channel is closed and drained.
  std::optional<T> Recv() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_receivers_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    return TakeLocked();
  }

  // Like Recv, but gives up after `timeout` (nullopt, as Go's select with time.After).
  template <typename Rep, typename Period>
  std::optional<T> RecvFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_receivers_;
    changed_.notify_all();
    changed_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
    return TakeLocked();
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    changed_.notify_all();
  }

  // Returns once `n` senders are parked for good unless someone receives: senders already
  // admitted but not yet woken do not count.
  void AwaitBlockedSenders(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] {
      const std::size_t free = capacity_ + waiting_receivers_ - queue_.size();
      return !closed_ && blocked_senders_ >= free + n;
    });
  }

  // Returns once `n` receivers wait with no value on its way to them.
  void AwaitBlockedReceivers(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return !closed_ && waiting_receivers_ >= queue_.size() + n; });
  }

  // `for (T v : channel)` receives until the channel is closed, like Go's `range`.
  class Iterator {
   public:
    explicit Iterator(Channel* ch) : ch_(ch) { Advance(); }
    const T& operator*() const { return *value_; }
    Iterator& operator++() {
      Advance();
      return *this;
    }
    bool operator!=(const Iterator& other) const { return ch_ != other.ch_; }

   private:
    friend class Channel;
    Iterator() = default;
    void Advance() {
      value_ = ch_->Recv();
      if (!value_) ch_ = nullptr;
    }
    Channel* ch_ = nullptr;
    std::optional<T> value_;
  };
  Iterator begin() { return Iterator(this); }
  Iterator end() { return Iterator(); }

 private:
  // Called with mu_ held by a receiver that counted itself in waiting_receivers_.
  std::optional<T> TakeLocked() {
    --waiting_receivers_;
    if (queue_.empty()) return std::nullopt;
    std::optional<T> value(std::move(queue_.front()));
    queue_.pop_front();
    changed_.notify_all();
    return value;
  }

  const std::size_t capacity_;
  std::mutex mu_;
  // One condition for every change: the channel is for tests, simplicity beats wake-up cost.
  std::condition_variable changed_;
  std::deque<T> queue_;
  std::size_t waiting_receivers_ = 0;
  std::size_t blocked_senders_ = 0;
  bool closed_ = false;
};

}  // namespace e2e

#endif  // THREADLEAK_TESTS_E2E_PROGRAMS_CHANNEL_H_
