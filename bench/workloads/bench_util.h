// Shared by the benchmark workloads: argument parsing, a monotonic clock, and the one line each
// workload prints. The runner (bench/bench.py) reads `key=value` pairs from that line.
//
// Every workload does a fixed amount of work given on the command line, so the same run can be
// repeated under any tool (and under callgrind, where instruction counts must be comparable).
#ifndef THREADLEAK_BENCH_BENCH_UTIL_H_
#define THREADLEAK_BENCH_BENCH_UTIL_H_

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

namespace bench {

inline long long Nanos(clockid_t clock) {
  timespec now;
  clock_gettime(clock, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

inline long long MonotonicNanos() {
  return Nanos(CLOCK_MONOTONIC);
}

// argv[index] as a count (positive, or also zero with `zero_ok`), or `fallback` when absent.
// Exits on a malformed value.
inline long Count(int argc, char** argv, int index, long fallback, bool zero_ok = false) {
  if (argc <= index) return fallback;
  char* end = nullptr;
  long value = strtol(argv[index], &end, 10);
  if (end == argv[index] || *end != '\0' || value < (zero_ok ? 0 : 1)) {
    fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[index]);
    exit(2);
  }
  return value;
}

// Pins the calling thread to the `index`-th CPU it may run on (modulo their number). Two threads
// contending for one lock are then always on two CPUs: left to the scheduler, they share one for
// whole time slices in some runs (the lock then never contends) and not in others, and the
// throughput of one run differs from the next by up to 3x, whatever runs it.
inline void PinToCpu(int index) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int count = CPU_COUNT(&allowed);
  if (count < 2) return;
  int wanted = index % count;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (wanted-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
  }
}

// Times a block of work and prints `ops_per_sec=... ops=... seconds=... cpu_seconds=...`:
// wall time, and the CPU time of the whole process meanwhile (all its threads, user and system).
// On a shared machine the second barely moves when other programs take the CPU away.
class OpsTimer {
 public:
  OpsTimer() : start_(MonotonicNanos()), cpu_start_(Nanos(CLOCK_PROCESS_CPUTIME_ID)) {}
  void Report(long ops) const {
    double seconds = static_cast<double>(MonotonicNanos() - start_) / 1e9;
    double cpu_seconds = static_cast<double>(Nanos(CLOCK_PROCESS_CPUTIME_ID) - cpu_start_) / 1e9;
    printf("ops_per_sec=%.1f ops=%ld seconds=%.6f cpu_seconds=%.6f\n",
           static_cast<double>(ops) / seconds, ops, seconds, cpu_seconds);
    fflush(stdout);
  }

 private:
  long long start_;
  long long cpu_start_;
};

}  // namespace bench

#endif  // THREADLEAK_BENCH_BENCH_UTIL_H_
