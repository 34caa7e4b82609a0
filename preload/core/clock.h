// Monotonic time for wait slots and the exit grace period. clock_gettime goes through the vDSO:
// no system call, async-signal-safe.
#ifndef THREADLEAK_PRELOAD_CORE_CLOCK_H_
#define THREADLEAK_PRELOAD_CORE_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace threadleak {

inline int64_t MonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// The start of a wait: CLOCK_MONOTONIC_COARSE, the time of the last scheduler tick (a few ms
// behind, which blocked_ms and the watchdog can afford). It reads two words of the vDSO's data
// page; CLOCK_MONOTONIC also reads the TSC, ~50 ns in a VM, on every blocking wait.
inline int64_t CoarseMonotonicNanos() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_CLOCK_H_
