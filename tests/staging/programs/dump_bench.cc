// Benchmark: how long a dump of N threads takes (issue 4's target: 10,000 threads in under 2 s),
// and how long the text report is when they share a few stacks. Run under the shim:
//   THREADLEAK_OPTIONS=log_path=/tmp/dump LD_PRELOAD=.../libthreadleak.so dump_bench 10000
// It prints "dump_threads=N dump_ms=T". No pass/fail: a benchmark prints numbers.
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scripts/dump_request.h"

namespace {

std::mutex g_mutex;
std::condition_variable g_never;
bool g_stop = false;

__attribute__((noinline)) void ParkA() {
  std::unique_lock lock(g_mutex);
  g_never.wait(lock, [] { return g_stop; });
}
__attribute__((noinline)) void ParkB() {
  ParkA();
}
__attribute__((noinline)) void ParkC() {
  ParkB();
}

void* Park(void* which) {
  switch (reinterpret_cast<uintptr_t>(which) % 3) {
    case 0:
      ParkA();
      break;
    case 1:
      ParkB();
      break;
    default:
      ParkC();
      break;
  }
  return nullptr;
}

// The monitor thread's name counts finished dumps: "threadleak/N".
std::string ReporterName() {
  std::string task_dir = "/proc/self/task";
  DIR* dir = opendir(task_dir.c_str());
  std::string found;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    FILE* comm = fopen((task_dir + "/" + entry->d_name + "/comm").c_str(), "r");
    if (comm == nullptr) continue;
    char name[32] = {};
    if (fgets(name, sizeof name, comm) != nullptr && strncmp(name, "threadleak/", 11) == 0) {
      found = name;
    }
    fclose(comm);
  }
  closedir(dir);
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 10000;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 64 * 1024);
  std::vector<pthread_t> threads(count);
  for (int i = 0; i < count; ++i) {
    if (pthread_create(&threads[i], &attributes, Park, reinterpret_cast<void*>(i)) != 0) {
      std::fprintf(stderr, "dump_bench: could only start %d threads\n", i);
      count = i;
      break;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200 + count / 20));
  std::string before = ReporterName();
  if (before.empty()) {
    std::fprintf(stderr, "dump_bench: not running under threadleak with dumps on\n");
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  threadleak::RequestDump(getpid());
  while (ReporterName() == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("dump_threads=%d dump_ms=%lld\n", count,
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  {
    std::lock_guard lock(g_mutex);
    g_stop = true;
  }
  g_never.notify_all();
  for (int i = 0; i < count; ++i) pthread_join(threads[i], nullptr);
  return 0;
}
