// One GoogleTest test that hangs (a worker nobody wakes, joined) and one that passes.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

std::mutex mutex;
std::condition_variable wake;
bool woken = false;  // never set

__attribute__((noinline)) void WaitInTest() {
  std::unique_lock<std::mutex> lock(mutex);
  wake.wait(lock, [] { return woken; });
}

TEST(Hang, WaitsForever) {
  std::thread worker(WaitInTest);
  worker.join();
}

TEST(Hang, Passes) {
  EXPECT_EQ(1 + 1, 2);
}

}  // namespace
