// The tests of the jobs library. Nothing here mentions threadleak: the listener comes from
// linking threadleak::gtest (CMakeLists.txt). Heartbeat.BeatsUntilStopped forgets to stop its
// heartbeat when JOBS_EXAMPLE_LEAK=1, and the listener fails exactly that test.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "jobs.h"

namespace {

bool LeakOnPurpose() {
  const char* flag = std::getenv("JOBS_EXAMPLE_LEAK");
  return flag != nullptr && std::string(flag) == "1";
}

TEST(ParallelSum, AddsEverySlice) {
  std::vector<int> values(1000);
  std::iota(values.begin(), values.end(), 1);
  EXPECT_EQ(jobs::ParallelSum(values, 4), 500500);
}

// Starts the log's flusher, which outlives the test by design: threadleak.supp says so.
TEST(Log, FlushesEveryLine) {
  jobs::Log("first");
  jobs::Log("second");
  EXPECT_NE(jobs::FlushLog().find("first\nsecond\n"), std::string::npos);
}

TEST(Heartbeat, BeatsUntilStopped) {
  auto beats = std::make_shared<std::atomic<int>>(0);
  jobs::Heartbeat heartbeat(std::chrono::milliseconds(5), [beats] { ++*beats; });
  for (int i = 0; i < 2000 && *beats < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(*beats, 3);
  if (!LeakOnPurpose()) heartbeat.Stop();
}

}  // namespace
