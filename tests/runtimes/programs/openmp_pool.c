// GNU OpenMP: a parallel region leaves libgomp's worker pool alive until exit. "leak" adds one
// thread of the program's own.
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "own_leak.h"

int main(int argc, char** argv) {
  long sum = 0;
#pragma omp parallel for reduction(+ : sum) num_threads(3)
  for (long i = 0; i < 3000000; ++i) sum += i % 7;
  if (argc > 1 && strcmp(argv[1], "leak") == 0) StartOwnLeak();
  printf("sum %ld\n", sum);
  return 0;
}
