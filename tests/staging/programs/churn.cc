// Threads come and go as fast as they can for a while (creators joining, detaching, and
// threads that detach themselves) while the test dumps the process again and again.
// Usage: churn [MS [STOP_FILE]] — runs MS milliseconds, or until STOP_FILE exists.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/common/start_detached.h"

int main(int argc, char** argv) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(argc > 1 ? std::atoi(argv[1]) : 2000);
  const char* stop_file = argc > 2 ? argv[2] : nullptr;
  std::atomic<bool> stop{false};
  std::atomic<long> created{0};
  std::vector<std::thread> creators;
  for (int c = 0; c < 3; ++c) {
    creators.emplace_back([&, c] {
      for (long round = 0; !stop && std::chrono::steady_clock::now() < until; ++round) {
        if (stop_file != nullptr && round % 256 == 0 && access(stop_file, F_OK) == 0) stop = true;
        if (c == 0) {
          std::thread([] {}).join();
        } else if (c == 1) {
          test_support::StartAndDetach([] {});
        } else {
          pthread_t thread;
          pthread_create(
              &thread, nullptr,
              [](void*) -> void* {
                pthread_detach(pthread_self());
                return nullptr;
              },
              nullptr);
        }
        created.fetch_add(1);
      }
    });
  }
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  for (std::thread& creator : creators) creator.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // detached ones finish
  std::printf("created %ld threads\n", created.load());
  return 0;
}
