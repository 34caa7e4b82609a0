// Installs its own SIGUSR2 handler (threadleak's default dump signal), as a program may: its
// handler must see the program's SIGUSR2 as without threadleak, and threadleak's dump request,
// sent to threadleak's own thread, must neither reach that handler nor be lost.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "scripts/dump_request.h"

namespace {

std::atomic<int> handled{0};
void OnSignal(int) {
  handled.fetch_add(1);
}

// The threadleak thread's name, "threadleak/N" after N dumps; "" when there is none.
std::string ToolThreadName() {
  std::optional<threadleak::ToolThread> thread = threadleak::FindToolThread(getpid());
  return thread ? threadleak::ReadLine("/proc/self/task/" + std::to_string(thread->tid) + "/comm")
                : "";
}

}  // namespace

int main() {
  struct sigaction action = {}, previous = {};
  action.sa_handler = OnSignal;
  sigaction(SIGUSR2, &action, &previous);
  // What it replaced is what it had before threadleak: the default action.
  if (previous.sa_handler != SIG_DFL) {
    std::fprintf(stderr, "own_handler: previous action is not SIG_DFL\n");
    return 1;
  }
  std::atomic<bool> done{false};
  std::thread worker([&] {  // threadleak's thread starts with the program's first thread
    while (!done.load()) usleep(1000);
  });
  raise(SIGUSR2);
  for (int i = 0; i < 100 && handled.load() == 0; ++i) usleep(1000);
  int status = handled.load() == 1 ? 0 : 1;
  if (!threadleak::RequestDump(getpid())) {
    std::fprintf(stderr, "own_handler: no dump could be asked for\n");
    status = 1;
  }
  for (int i = 0; i < 10000 && ToolThreadName() != "threadleak/1"; ++i) usleep(1000);
  if (ToolThreadName() != "threadleak/1") {
    std::fprintf(stderr, "own_handler: the dump was not written\n");
    status = 1;
  }
  if (handled.load() != 1) {
    std::fprintf(stderr, "own_handler: the program's handler ran %d times\n", handled.load());
    status = 1;
  }
  done.store(true);
  worker.join();
  return status;
}
