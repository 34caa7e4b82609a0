// GoogleTest death tests, run as a program under the shim (process_calls_test.cc): a death by
// threadleak's default dump signal must be seen as the program's own.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

TEST(DeathUnderThreadleak, RaiseOfTheDumpSignalKillsTheChild) {
  std::thread worker([] { usleep(1000); });  // threadleak's own thread exists from here
  worker.join();
  ASSERT_EXIT(raise(SIGUSR2), testing::KilledBySignal(SIGUSR2), "");
}

TEST(DeathUnderThreadleak, ThreadsafeStyleToo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_EXIT(raise(SIGUSR2), testing::KilledBySignal(SIGUSR2), "");
}
