// A GoogleTest program, unchanged by threadleak: one test leaks a thread. Run under the shim, the
// exit report names the test whose body created it.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

std::mutex mutex;
std::condition_variable never;

TEST(Cache, StartsEmpty) {
  EXPECT_TRUE(true);
}

TEST(Cache, RefreshesInTheBackground) {
  std::thread([] {
    std::unique_lock lock(mutex);
    never.wait(lock, [] { return false; });
  }).detach();
}

TEST(Cache, JoinsItsWorker) {
  std::thread([] {}).join();
}

}  // namespace
