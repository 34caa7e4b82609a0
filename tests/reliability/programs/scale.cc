// Item 4 of issue 8: scale and churn. Many live threads at exit, many threads over a run with
// the process's memory measured, and a bounded soak mixing every kind of wait while threads
// come and go — ended cleanly, or by exit() in the middle of the churn.
//
// Usage: scale live N | churn TOTAL | soak SECONDS clean|exit_mid_churn
// Prints KEY=VALUE lines; exits 0 when the program saw what it expected.
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/start_detached.h"

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long ResidentKb() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kb = std::atol(line + 6);
  }
  std::fclose(status);
  return kb;
}

// --- many live threads -----------------------------------------------------------------------

sem_t g_never;
sem_t g_parked;

__attribute__((noinline)) void* ParkedForever(void*) {
  sem_post(&g_parked);
  while (sem_wait(&g_never) != 0) {
  }
  return nullptr;
}

// N detached threads with 64 KiB stacks, all blocked at exit.
int Live(int count) {
  sem_init(&g_never, 0, 0);
  sem_init(&g_parked, 0, 0);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    pthread_t thread;
    if (int error = pthread_create(&thread, &attributes, ParkedForever, nullptr); error != 0) {
      std::printf("create_failed_at=%d\nerror=%s\n", i, std::strerror(error));
      return 1;
    }
  }
  for (int i = 0; i < count; ++i) {
    while (sem_wait(&g_parked) != 0) {
    }
  }
  std::printf("created=%d\ncreate_seconds=%.2f\n", count, SecondsSince(start));
  std::fflush(stdout);
  return 0;
}

// --- churn with memory measured --------------------------------------------------------------

// Creates threads from 4 creators until `until` were made; a third are detached, the rest
// joined.
void ChurnUntil(std::atomic<int>* made, int until) {
  std::vector<std::thread> creators;
  for (int c = 0; c < 4; ++c) {
    creators.emplace_back([made, until] {
      pthread_attr_t attributes;
      pthread_attr_init(&attributes);
      pthread_attr_setstacksize(&attributes, 64 * 1024);
      for (int k = made->fetch_add(1); k < until; k = made->fetch_add(1)) {
        pthread_t thread;
        if (pthread_create(
                &thread, &attributes, [](void*) -> void* { return nullptr; }, nullptr) != 0) {
          continue;
        }
        if (k % 3 == 0)
          pthread_detach(thread);
        else
          pthread_join(thread, nullptr);
      }
    });
  }
  for (std::thread& t : creators) t.join();
  made->store(until);
}

int Churn(int total) {
  const auto start = Clock::now();
  std::atomic<int> made{0};
  ChurnUntil(&made, 10'000);
  usleep(100'000);  // detached threads finish
  const long at_10k = ResidentKb();
  ChurnUntil(&made, total);
  usleep(100'000);
  const long at_total = ResidentKb();
  std::printf("rss_kb_at_10k=%ld\nrss_kb_at_total=%ld\nchurn_seconds=%.2f\n", at_10k, at_total,
              SecondsSince(start));
  return 0;
}

// --- soak ------------------------------------------------------------------------------------

std::atomic<bool> g_stop{false};
std::atomic<long> g_operations{0};

// A bounded queue on a mutex and two condition variables.
class Queue {
 public:
  void Push(int value) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < 16 || g_stop; });
    items_.push_back(value);
    not_empty_.notify_one();
  }
  bool Pop(int* value) {
    std::unique_lock lock(mutex_);
    if (!not_empty_.wait_for(lock, std::chrono::milliseconds(5), [&] { return !items_.empty(); }))
      return false;
    *value = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Wake() {
    std::lock_guard lock(mutex_);
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<int> items_;
};

void Soaker(int kind, Queue* queue, std::shared_mutex* table, sem_t* tokens) {
  unsigned seed = static_cast<unsigned>(kind * 7919);
  while (!g_stop) {
    switch (kind) {
      case 0:  // create and join
        std::thread([] {}).join();
        break;
      case 1:  // create and detach, some with a short sleep
        test_support::StartAndDetach(
            [] { std::this_thread::sleep_for(std::chrono::microseconds(50)); });
        break;
      case 2:  // producer
        queue->Push(static_cast<int>(rand_r(&seed)));
        break;
      case 3: {  // consumer
        int value;
        queue->Pop(&value);
        break;
      }
      case 4:  // readers and a writer on a shared_mutex
        if (rand_r(&seed) % 8 == 0) {
          std::unique_lock lock(*table);
        } else {
          std::shared_lock lock(*table);
        }
        break;
      case 5:  // a semaphore passed around, futures, async
        if (sem_wait(tokens) == 0) sem_post(tokens);
        std::async(std::launch::async, [] { return 1; }).get();
        break;
      default: {  // a promise fulfilled by a short-lived thread
        auto promise = std::make_shared<std::promise<int>>();
        std::future<int> future = promise->get_future();
        test_support::StartAndDetach([promise] { promise->set_value(2); });
        future.wait();
        break;
      }
    }
    ++g_operations;
  }
}

int Soak(double seconds, const std::string& ending) {
  Queue queue;
  std::shared_mutex table;
  sem_t tokens;
  sem_init(&tokens, 0, 2);
  std::vector<std::thread> soakers;
  for (int kind = 0; kind < 7; ++kind) {
    soakers.emplace_back(Soaker, kind, &queue, &table, &tokens);
  }
  const auto start = Clock::now();
  while (SecondsSince(start) < seconds) usleep(10'000);
  std::printf("operations=%ld\n", g_operations.load());
  std::fflush(stdout);
  if (ending == "exit_mid_churn") {
    // More creators for the last moments: the exit check runs while threads are being born.
    for (int i = 0; i < 6; ++i) {
      std::thread([] {
        while (true) test_support::StartAndDetach([] {});
      }).detach();
    }
    usleep(100'000);
    exit(0);
  }
  g_stop = true;
  queue.Wake();
  for (std::thread& t : soakers) t.join();
  usleep(50'000);  // the last detached threads finish
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario == "live" && argc > 2) return Live(std::atoi(argv[2]));
  if (scenario == "churn" && argc > 2) return Churn(std::atoi(argv[2]));
  if (scenario == "soak" && argc > 3) return Soak(std::atof(argv[2]), argv[3]);
  std::fprintf(stderr, "scale: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
