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
#include <unistd.h>

#include <string>

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

// The CPUs the process may run on, read before main runs: a thread created after its creator
// pinned itself inherits that one CPU, and could not pick another from its own mask.
inline const cpu_set_t kStartCpus = [] {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_ZERO(&allowed);
  return allowed;
}();

// Pins the calling thread to the `index`-th CPU the process could run on at start (modulo their
// number). Two threads contending for one lock are then always on two CPUs: left to the
// scheduler, they share one for whole time slices in some runs (the lock then never contends)
// and not in others, and the throughput of one run differs from the next by up to 3x, whatever
// runs it.
inline void PinToCpu(int index) {
  const int count = CPU_COUNT(&kStartCpus);
  if (count < 2) return;
  int wanted = index % count;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &kStartCpus)) continue;
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

// Runs `work(ops)` (the timed part of a workload) and prints OpsTimer's line. Under the runner's
// interleaved mode, THREADLEAK_BENCH_SLICES=IN,OUT,COUNT in the environment, it runs `work(ops)`
// COUNT times instead, each time a byte arrives on descriptor IN, answers each with a byte on
// OUT, and prints each run's nanoseconds, `slice_ns=A,B,...`, in place of that line: the runner
// hands that byte back and forth between this program and the same program under the tool, so
// the two are measured a few tens of milliseconds apart, under the same load of the machine.
template <typename Work>
void Measure(long ops, Work&& work) {
  const char* slices = getenv("THREADLEAK_BENCH_SLICES");
  int in = -1, out = -1, count = 0;
  if (slices == nullptr || sscanf(slices, "%d,%d,%d", &in, &out, &count) != 3 || count <= 0) {
    OpsTimer timer;
    work(ops);
    timer.Report(ops);
    return;
  }
  std::string times;
  for (int slice = 0; slice < count; ++slice) {
    char token;
    if (read(in, &token, 1) != 1) {
      fprintf(stderr, "bench: the runner's descriptor %d closed after %d slices\n", in, slice);
      exit(2);
    }
    long long start = MonotonicNanos();
    work(ops);
    long long elapsed = MonotonicNanos() - start;
    times += (slice == 0 ? "" : ",") + std::to_string(elapsed);
    if (write(out, &token, 1) != 1) exit(2);
  }
  printf("slice_ns=%s ops=%ld\n", times.c_str(), ops);
  fflush(stdout);
}

}  // namespace bench

#endif  // THREADLEAK_BENCH_BENCH_UTIL_H_
