// A 4-worker task queue (std::mutex + std::condition_variable) fed a million tiny tasks by the
// main thread: the common shape of a thread pool. ops = tasks run. The main thread runs on one
// CPU and the workers on another (bench::PinToCpu): left to the scheduler, how the five threads
// share two CPUs changed from run to run, and the throughput by up to 4x.
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
        bench::PinToCpu(1);
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
  bench::OpsTimer timer;
  bench::PinToCpu(0);
  {
    TaskQueue queue(4);
    for (long i = 0; i < tasks; ++i) {
      queue.Push([] { g_done.fetch_add(1, std::memory_order_relaxed); });
    }
  }  // closes the queue and joins the workers once every task ran
  timer.Report(tasks);
  return g_done.load() == tasks ? 0 : 1;
}
