// Tests for the GoogleTest listener (tests/api/api_test.cc runs them): one leaks a thread, the
// others must pass — a thread joined, a thread that ends within the grace period, and a worker
// the suite starts before its tests and stops after them.
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace {

// Never destroyed: a thread may still wait on it when the process exits.
struct Gate {
  std::mutex mu;
  std::condition_variable opened;
  bool open = false;

  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    opened.wait(lock, [this] { return open; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    opened.notify_all();
  }
};

__attribute__((noinline)) void WaitForever() {
  static Gate* never = new Gate;
  never->Wait();
}

TEST(Listener, CleanTestJoinsItsThread) {
  std::thread thread([] {});
  thread.join();
}

TEST(Listener, LeakyTestForgetsItsThread) {
  std::thread thread(WaitForever);
  pthread_setname_np(thread.native_handle(), "forgotten");
  thread.detach();
}

TEST(Listener, ThreadEndingWithinGraceIsNotALeak) {
  std::thread([] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }).detach();
}

class SuiteWorker : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    gate_ = new Gate;
    worker_ = new std::thread([] { gate_->Wait(); });
  }
  static void TearDownTestSuite() {
    gate_->Open();
    worker_->join();
    delete worker_;
    delete gate_;
  }

  static Gate* gate_;
  static std::thread* worker_;
};

Gate* SuiteWorker::gate_ = nullptr;
std::thread* SuiteWorker::worker_ = nullptr;

TEST_F(SuiteWorker, WorkerStartedBeforeTheTestIsNotHeldAgainstIt) {
  EXPECT_TRUE(worker_->joinable());
}

}  // namespace
