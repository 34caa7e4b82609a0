// oneTBB: a parallel_for leaves the scheduler's worker threads alive until exit. "leak" adds one
// thread of the program's own.
#include <tbb/parallel_for.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "own_leak.h"

int main(int argc, char** argv) {
  std::atomic<long> sum{0};
  tbb::parallel_for(0, 100000, [&](int i) { sum += i % 7; });
  if (argc > 1 && std::strcmp(argv[1], "leak") == 0) StartOwnLeak();
  std::printf("sum %ld\n", sum.load());
  return 0;
}
