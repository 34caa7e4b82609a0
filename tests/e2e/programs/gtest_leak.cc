// A GoogleTest program, unchanged by threadleak: one test leaks a thread. Run under the shim, the
// exit report names the test whose body created it.
#include <gtest/gtest.h>

#include <pthread.h>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

std::mutex mutex;
std::condition_variable never;

TEST(Cache, StartsEmpty) {
  EXPECT_TRUE(true);
}

void* RefreshForever(void*) {
  std::unique_lock lock(mutex);
  never.wait(lock, [] { return false; });
  return nullptr;
}

// Through pthread_create with no state on the heap: std::thread's state object is held only by
// the leaked thread's frames, and LeakSanitizer (the sanitized build runs this program) missed
// it there in about one run of 30, reporting it as a leak.
TEST(Cache, RefreshesInTheBackground) {
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, RefreshForever, nullptr), 0);
  pthread_detach(thread);
}

TEST(Cache, JoinsItsWorker) {
  std::thread([] {}).join();
}

}  // namespace
