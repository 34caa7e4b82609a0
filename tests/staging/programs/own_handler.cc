// Installs its own SIGUSR2 handler, as a program may: threadleak must step aside, and the
// program's handler must run when the signal comes.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace {
std::atomic<int> handled{0};
void OnSignal(int) {
  handled.fetch_add(1);
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
  raise(SIGUSR2);
  for (int i = 0; i < 100 && handled.load() == 0; ++i) usleep(1000);
  return handled.load() == 1 ? 0 : 1;
}
