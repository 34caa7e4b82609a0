// OpenBLAS: its worker threads (blas_thread_server) live until exit. "leak" adds one thread of
// the program's own.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "own_leak.h"

int main(int argc, char** argv) {
  enum { kN = 256 };
  double* a = calloc(kN * kN, sizeof(double));
  double* b = calloc(kN * kN, sizeof(double));
  double* c = calloc(kN * kN, sizeof(double));
  for (int i = 0; i < kN * kN; ++i) a[i] = b[i] = 1.0;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0, a, kN, b, kN, 0.0, c, kN);
  if (argc > 1 && strcmp(argv[1], "leak") == 0) StartOwnLeak();
  printf("c[0] %.0f\n", c[0]);
  free(a);
  free(b);
  free(c);
  return 0;
}
