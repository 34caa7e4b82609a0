// A timer with SIGEV_THREAD: glibc starts a helper thread that lives until exit by design. The
// built-in suppressions leave it out; default_suppressions=0 shows it.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace {
std::atomic<int> fired{0};
void OnTimer(sigval) {
  fired.fetch_add(1);
}
}  // namespace

int main() {
  sigevent event = {};
  event.sigev_notify = SIGEV_THREAD;
  event.sigev_notify_function = OnTimer;
  timer_t timer;
  if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return 2;
  itimerspec once = {{0, 0}, {0, 1'000'000}};
  timer_settime(timer, 0, &once, nullptr);
  for (int i = 0; i < 1000 && fired.load() == 0; ++i) usleep(1000);
  usleep(20000);  // the notification thread has ended; glibc's helper thread stays
  return fired.load() == 1 ? 0 : 1;
}
