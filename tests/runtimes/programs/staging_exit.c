// Leaks one thread, then ends with the status asked for: "exit N" calls exit(N), "sigterm N"
// waits for SIGTERM, whose handler calls exit(N) (as memcached does), "return N" returns it.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "own_leak.h"

static int g_status;

static void OnTerm(int signal) {
  (void)signal;
  exit(g_status);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  g_status = atoi(argv[2]);
  StartOwnLeak();
  puts("started");
  fflush(stdout);
  if (strcmp(argv[1], "exit") == 0) exit(g_status);
  if (strcmp(argv[1], "sigterm") == 0) {
    signal(SIGTERM, OnTerm);
    for (;;) pause();
  }
  return g_status;
}
