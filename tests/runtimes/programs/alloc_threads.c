// Allocates from several joined threads, for a malloc replacement preloaded with it (jemalloc,
// tcmalloc): whatever threads the allocator starts are its own. "leak" adds one of the
// program's own.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "own_leak.h"

static void* Churn(void* argument) {
  (void)argument;
  for (int i = 0; i < 20000; ++i) {
    void* block = malloc((size_t)(i % 4096) + 16);
    memset(block, 1, 16);
    free(block);
  }
  return NULL;
}

int main(int argc, char** argv) {
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, Churn, NULL);
  for (int i = 0; i < 4; ++i) pthread_join(threads[i], NULL);
  if (argc > 1 && strcmp(argv[1], "leak") == 0) StartOwnLeak();
  usleep(200 * 1000);  // background threads of the allocator running
  puts("done");
  return 0;
}
