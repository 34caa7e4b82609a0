// A GoogleTest program, unchanged by threadleak and built with -O2, whose threads are started in
// the ways a creation stack cannot attribute: through a helper TestBody tail-calls (its frame is
// gone), by a pool worker on a test's behalf, by a test's thread after the test is over, before
// any test, in a suite's set-up, after the last test, and by a lazy singleton. Each thread is
// named, so the test can find it in the report. `--gtest_filter=Transparent.*` leaks nothing: its
// output must be the same with and without the shim.
#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace {

std::mutex never_mutex;
std::condition_variable never;

// Waits forever, named `name` (a thread the report must find).
[[noreturn]] void BlockForever(const char* name) {
  pthread_setname_np(pthread_self(), name);
  std::unique_lock lock(never_mutex);
  for (;;) never.wait(lock);
}

void StartBlocked(const char* name) {
  std::thread(BlockForever, name).detach();
}

// One worker that runs submitted tasks: started before any test, used by the tests.
class Pool {
 public:
  Pool() : worker_([this] { Work(); }) { worker_.detach(); }
  void Submit(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    ready_.notify_one();
  }

 private:
  void Work() {
    pthread_setname_np(pthread_self(), "pool-worker");
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::thread worker_;
};
Pool* pool = nullptr;

// A test's thread that outlives it: after the last test it starts one more.
std::promise<void> tests_over;
std::promise<void> child_started;

class ProgramEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    StartBlocked("before-tests");
    pool = new Pool;
  }
  void TearDown() override {
    tests_over.set_value();
    child_started.get_future().wait();
    // After the last test, whose joined threads left their records to be reused (the tool does
    // not clear a record's test name on release): a suite-level thread all the same.
    StartBlocked("after-tests");
  }
};

__attribute__((noinline)) void StartBackgroundRefresh() {
  StartBlocked("tail-helper");
}

// -O2 ends this body with a jump to the helper: no frame of it is left in the creation stack.
TEST(TailCall, HelperStartsTheThread) {
  StartBackgroundRefresh();
}

TEST(Pool, WorkerStartsAThreadForTheTest) {
  std::promise<void> started;
  pool->Submit([&started] {
    StartBlocked("pool-task");
    started.set_value();
  });
  started.get_future().wait();
}

TEST(Inherit, ThreadOutlivesItsTest) {
  std::thread([] {
    pthread_setname_np(pthread_self(), "outliving");
    tests_over.get_future().wait();  // no test runs any more
    StartBlocked("outliving-child");
    child_started.set_value();
    BlockForever("outliving");
  }).detach();
}

class SuiteSetUp : public testing::Test {
 protected:
  static void SetUpTestSuite() { StartBlocked("suite-setup"); }
};

TEST_F(SuiteSetUp, RunsAfterTheSuitesSetUp) {
  SUCCEED();
}

class Ticker {
 public:
  static Ticker& Instance() {
    static Ticker ticker;
    return ticker;
  }

 private:
  Ticker() { StartBlocked("lazy-ticker"); }
};

TEST(Lazy, FirstUserOfTheSingleton) {
  Ticker::Instance();
}

TEST(Lazy, SecondUserOfTheSingleton) {
  Ticker::Instance();
}

// Nothing leaks here: the same output with and without the shim.
TEST(Transparent, ThreadsCreatedAndJoinedInATest) {
  std::thread thread([] {});
  thread.join();
  std::thread([] { std::thread([] {}).join(); }).join();
}

}  // namespace

int main(int argc, char** argv) {
  bool transparent_only = false;
  for (int i = 1; i < argc; ++i) {
    transparent_only = transparent_only || std::string(argv[i]) == "--gtest_filter=Transparent.*";
  }
  testing::InitGoogleTest(&argc, argv);
  if (!transparent_only) testing::AddGlobalTestEnvironment(new ProgramEnvironment);
  return RUN_ALL_TESTS();
}
