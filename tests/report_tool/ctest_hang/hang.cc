// Hangs: a worker waits on a condition variable nobody signals, and main joins it. With
// --quick, the worker is woken and the program ends at once.
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

std::mutex mutex;
std::condition_variable wake;
bool woken = false;

__attribute__((noinline)) void WaitForever() {
  std::unique_lock<std::mutex> lock(mutex);
  wake.wait(lock, [] { return woken; });
}

}  // namespace

int main(int argc, char** argv) {
  std::thread worker(WaitForever);
  if (argc > 1 && std::strcmp(argv[1], "--quick") == 0) {
    std::lock_guard<std::mutex> lock(mutex);
    woken = true;
    wake.notify_all();
  }
  worker.join();
  return 0;
}
