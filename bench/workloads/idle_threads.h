// Threads that only wait on a condition variable while a workload runs, and are joined when the
// object goes away. They make a single-threaded workload run in a multi-threaded process.
#ifndef THREADLEAK_BENCH_IDLE_THREADS_H_
#define THREADLEAK_BENCH_IDLE_THREADS_H_

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

class IdleThreads {
 public:
  explicit IdleThreads(long count) {
    for (long i = 0; i < count; ++i) {
      threads_.emplace_back([this] {
        std::unique_lock<std::mutex> lock(mutex_);
        released_.wait(lock, [this] { return done_; });
      });
    }
  }
  ~IdleThreads() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    released_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  IdleThreads(const IdleThreads&) = delete;
  IdleThreads& operator=(const IdleThreads&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool done_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bench

#endif  // THREADLEAK_BENCH_IDLE_THREADS_H_
