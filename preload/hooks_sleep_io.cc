// Hooks for sleeps and for the blocking calls that a signal interrupts even with SA_RESTART
// (poll, epoll_wait, select, pause, ...). Sleeps fill the wait slot; all of them resume, with
// the time that remains, when the interruption was the tool's own stack sampling
// (interruptions.h), so a dump never makes a call return early.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "preload/clock.h"
#include "preload/interruptions.h"
#include "preload/real_functions.h"
#include "preload/wait_scope.h"

#define THREADLEAK_EXPORT extern "C" __attribute__((visibility("default")))

using namespace threadleak;

namespace {

// Milliseconds left until `deadline_ns` for a call that took `timeout_ms` (negative: forever).
int RemainingMillis(int timeout_ms, int64_t deadline_ns) {
  if (timeout_ms < 0) return timeout_ms;
  int64_t left = deadline_ns - MonotonicNanos();
  return left <= 0 ? 0 : static_cast<int>((left + 999'999) / 1'000'000);
}

int64_t DeadlineAfterMillis(int timeout_ms) {
  return timeout_ms < 0 ? 0 : MonotonicNanos() + int64_t{timeout_ms} * 1'000'000;
}

// For calls taking a relative timespec: the remaining part of it, or null for "forever".
struct RelativeTimeout {
  explicit RelativeTimeout(const timespec* timeout) : forever(timeout == nullptr) {
    if (!forever)
      deadline_ns = MonotonicNanos() + timeout->tv_sec * 1'000'000'000 + timeout->tv_nsec;
  }
  const timespec* Remaining() {
    if (forever) return nullptr;
    int64_t left = std::max<int64_t>(0, deadline_ns - MonotonicNanos());
    remaining = {static_cast<time_t>(left / 1'000'000'000),
                 static_cast<long>(left % 1'000'000'000)};
    return &remaining;
  }
  bool forever;
  int64_t deadline_ns = 0;
  timespec remaining = {};
};

// Calls `call(timeout_ms)` until it returns for a reason other than the tool's interruption.
template <typename Call>
int ResumingMillis(int timeout_ms, Call call) {
  int64_t deadline = DeadlineAfterMillis(timeout_ms);
  for (int timeout = timeout_ms;; timeout = RemainingMillis(timeout_ms, deadline)) {
    InterruptionWatch watch;
    int result = call(timeout);
    if (!watch.ShouldResume(result)) return result;
  }
}

}  // namespace

// --- sleeps ----------------------------------------------------------------------------------

THREADLEAK_EXPORT int nanosleep(const struct timespec* duration, struct timespec* remaining) {
  WaitScope wait(TL_STATE_SLEEP, nullptr);
  const timespec* request = duration;
  timespec left = {}, next = {};
  for (;;) {
    InterruptionWatch watch;
    int result = Real().nanosleep(request, &left);
    if (!watch.ShouldResume(result)) {
      if (result == -1 && errno == EINTR && remaining != nullptr) *remaining = left;
      return result;
    }
    next = left;
    request = &next;
  }
}

THREADLEAK_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec* duration,
                                      struct timespec* remaining) {
  WaitScope wait(TL_STATE_SLEEP, nullptr);
  const timespec* request = duration;
  timespec left = {}, next = {};
  for (;;) {
    uint32_t before = t_tool_interruptions;
    int error = Real().clock_nanosleep(clock, flags, request, &left);  // returns the error
    if (error != EINTR || t_tool_interruptions == before) {
      if (error == EINTR && remaining != nullptr && !(flags & TIMER_ABSTIME)) *remaining = left;
      return error;
    }
    if (!(flags & TIMER_ABSTIME)) {
      next = left;
      request = &next;
    }
  }
}

THREADLEAK_EXPORT int usleep(useconds_t microseconds) {
  WaitScope wait(TL_STATE_SLEEP, nullptr);
  timespec request = {static_cast<time_t>(microseconds / 1'000'000),
                      static_cast<long>(microseconds % 1'000'000) * 1000};
  timespec left = {};
  for (;;) {
    InterruptionWatch watch;
    int result = Real().nanosleep(&request, &left);
    if (!watch.ShouldResume(result)) return result;
    request = left;
  }
}

THREADLEAK_EXPORT unsigned int sleep(unsigned int seconds) {
  WaitScope wait(TL_STATE_SLEEP, nullptr);
  int saved_errno = errno;
  timespec request = {static_cast<time_t>(seconds), 0};
  timespec left = {};
  for (;;) {
    InterruptionWatch watch;
    int result = Real().nanosleep(&request, &left);
    if (result == 0) break;
    if (!watch.ShouldResume(result)) return static_cast<unsigned int>(left.tv_sec);  // as glibc
    request = left;
  }
  errno = saved_errno;
  return 0;
}

// --- calls a signal interrupts even with SA_RESTART --------------------------------------------

THREADLEAK_EXPORT int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  return ResumingMillis(timeout_ms, [&](int t) { return Real().poll(fds, count, t); });
}

THREADLEAK_EXPORT int __poll_chk(struct pollfd* fds, nfds_t count, int timeout_ms, size_t size) {
  return ResumingMillis(timeout_ms, [&](int t) { return Real().poll_chk(fds, count, t, size); });
}

THREADLEAK_EXPORT int epoll_wait(int epoll, struct epoll_event* events, int max, int timeout_ms) {
  return ResumingMillis(timeout_ms,
                        [&](int t) { return Real().epoll_wait(epoll, events, max, t); });
}

THREADLEAK_EXPORT int epoll_pwait(int epoll, struct epoll_event* events, int max, int timeout_ms,
                                  const sigset_t* mask) {
  return ResumingMillis(timeout_ms,
                        [&](int t) { return Real().epoll_pwait(epoll, events, max, t, mask); });
}

THREADLEAK_EXPORT int ppoll(struct pollfd* fds, nfds_t count, const struct timespec* timeout,
                            const sigset_t* mask) {
  RelativeTimeout relative(timeout);
  const timespec* current = timeout;
  for (;;) {
    InterruptionWatch watch;
    int result = Real().ppoll(fds, count, current, mask);
    if (!watch.ShouldResume(result)) return result;
    current = relative.Remaining();
  }
}

THREADLEAK_EXPORT int select(int count, fd_set* readable, fd_set* writable, fd_set* errors,
                             struct timeval* timeout) {
  // Linux leaves the sets alone on EINTR and counts the timeout down itself.
  for (;;) {
    InterruptionWatch watch;
    int result = Real().select(count, readable, writable, errors, timeout);
    if (!watch.ShouldResume(result)) return result;
  }
}

THREADLEAK_EXPORT int pselect(int count, fd_set* readable, fd_set* writable, fd_set* errors,
                              const struct timespec* timeout, const sigset_t* mask) {
  RelativeTimeout relative(timeout);
  const timespec* current = timeout;
  for (;;) {
    InterruptionWatch watch;
    int result = Real().pselect(count, readable, writable, errors, current, mask);
    if (!watch.ShouldResume(result)) return result;
    current = relative.Remaining();
  }
}

THREADLEAK_EXPORT int pause() {
  for (;;) {
    InterruptionWatch watch;
    int result = Real().pause();
    if (!watch.ShouldResume(result)) return result;
  }
}

THREADLEAK_EXPORT int sigsuspend(const sigset_t* mask) {
  for (;;) {
    InterruptionWatch watch;
    int result = Real().sigsuspend(mask);
    if (!watch.ShouldResume(result)) return result;
  }
}
