#include "jobs.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace jobs {

int64_t ParallelSum(const std::vector<int>& values, int workers) {
  std::vector<int64_t> sums(workers, 0);
  std::vector<std::thread> threads;
  size_t slice = (values.size() + workers - 1) / workers;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      size_t end = std::min(values.size(), (w + 1) * slice);
      for (size_t i = w * slice; i < end; ++i) sums[w] += values[i];
    });
  }
  for (std::thread& thread : threads) thread.join();
  int64_t total = 0;
  for (int64_t sum : sums) total += sum;
  return total;
}

namespace {

// Never destroyed: the flusher waits on it until the process ends.
struct LogState {
  std::mutex mu;
  std::condition_variable work;
  std::condition_variable flushed;
  std::deque<std::string> pending;
  std::string written;
  uint64_t appended = 0;
  uint64_t done = 0;
};

void Flusher(LogState* log) {
  pthread_setname_np(pthread_self(), "jobs-flusher");
  std::unique_lock<std::mutex> lock(log->mu);
  for (;;) {
    log->work.wait(lock, [log] { return !log->pending.empty(); });
    while (!log->pending.empty()) {
      log->written += log->pending.front() + "\n";
      log->pending.pop_front();
      ++log->done;
    }
    log->flushed.notify_all();
  }
}

LogState& TheLog() {
  static LogState* log = [] {
    auto* state = new LogState;
    std::thread(Flusher, state).detach();
    return state;
  }();
  return *log;
}

}  // namespace

void Log(const std::string& line) {
  LogState& log = TheLog();
  std::lock_guard<std::mutex> lock(log.mu);
  log.pending.push_back(line);
  ++log.appended;
  log.work.notify_one();
}

std::string FlushLog() {
  LogState& log = TheLog();
  std::unique_lock<std::mutex> lock(log.mu);
  uint64_t wanted = log.appended;
  log.flushed.wait(lock, [&] { return log.done >= wanted; });
  return log.written;
}

struct Heartbeat::State {
  std::mutex mu;
  std::condition_variable stop;
  bool stopping = false;
};

Heartbeat::Heartbeat(std::chrono::milliseconds period, std::function<void()> beat)
    : state_(std::make_shared<State>()) {
  thread_ = std::thread([state = state_, period, beat = std::move(beat)] {
    std::unique_lock<std::mutex> lock(state->mu);
    while (!state->stop.wait_for(lock, period, [&] { return state->stopping; })) {
      lock.unlock();
      beat();
      lock.lock();
    }
  });
}

Heartbeat::~Heartbeat() {
  if (thread_.joinable()) thread_.detach();
}

void Heartbeat::Stop() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->stop.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace jobs
