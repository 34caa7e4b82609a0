// A 4-worker task queue (std::mutex + std::condition_variable) fed a million tiny tasks by the
// main thread: the common shape of a thread pool. ops = tasks run. All five threads run on one
// CPU (bench::PinToCpu): left to the scheduler, or with the workers on a CPU of their own, a
// worker that lost its CPU to another while holding the queue's lock stalled the feeder for a
// time slice, and 250,000 tasks took 18 ms in one turn and 2.4 s in the next, with or without
// the tool; on one CPU, 11-61 ms.
// Usage: task_queue [TASKS]
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace {

class TaskQueue {
 public:
  explicit TaskQueue(int workers) {
    for (int i = 0; i < workers; ++i) {
      workers_.emplace_back([this] {
        bench::PinToCpu(0);
        Work();
      });
    }
  }
  ~TaskQueue() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    nonempty_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }
  void Push(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    nonempty_.notify_one();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        nonempty_.wait(lock, [this] { return closed_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable nonempty_;
  std::deque<std::function<void()>> tasks_;
  bool closed_ = false;
  std::vector<std::thread> workers_;
};

std::atomic<long> g_done{0};

}  // namespace

int main(int argc, char** argv) {
  const long tasks = bench::Count(argc, argv, 1, 1'000'000);
  long total = 0;
  bench::PinToCpu(0);
  bench::Measure(tasks, [&total](long n) {
    TaskQueue queue(4);
    for (long i = 0; i < n; ++i) {
      queue.Push([] { g_done.fetch_add(1, std::memory_order_relaxed); });
    }
    total += n;
  });  // each run closes its queue and joins the workers once every task ran
  return g_done.load() == total ? 0 : 1;
}
