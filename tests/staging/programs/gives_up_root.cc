// A server's start as root: it gives up root for another user (`nobody`, as memcached -u and
// nginx's workers do), then starts two workers that wait, prints "ready" and lives MS ms.
// Usage: gives_up_root MS
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::mutex g_mutex;
std::condition_variable g_done;
bool g_stop = false;

void WaitForTheEnd() {
  std::unique_lock<std::mutex> lock(g_mutex);
  g_done.wait(lock, [] { return g_stop; });
}

}  // namespace

int main(int argc, char** argv) {
  const int ms = argc > 1 ? atoi(argv[1]) : 3000;
  constexpr uid_t kNobody = 65534;
  if (getuid() == 0 && (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
                        setresuid(kNobody, kNobody, kNobody) != 0)) {
    perror("gives_up_root: setresuid");
    return 1;
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i) workers.emplace_back(WaitForTheEnd);
  printf("ready as uid %d\n", static_cast<int>(getuid()));
  fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_stop = true;
  }
  g_done.notify_all();
  for (std::thread& worker : workers) worker.join();
  return 0;
}
