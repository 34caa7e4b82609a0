// gRPC's C core: grpc_init starts its executor and timer threads, grpc_shutdown stops them.
// "shutdown" calls it (the documented end of a gRPC program); "leak" adds one thread of the
// program's own.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "own_leak.h"

int main(int argc, char** argv) {
  int shutdown = 0, leak = 0;
  for (int i = 1; i < argc; ++i) {
    shutdown |= strcmp(argv[i], "shutdown") == 0;
    leak |= strcmp(argv[i], "leak") == 0;
  }
  grpc_init();
  grpc_channel_credentials* credentials = grpc_insecure_credentials_create();
  grpc_channel* channel = grpc_channel_create("127.0.0.1:1", credentials, NULL);
  grpc_channel_check_connectivity_state(channel, 1);  // starts connecting: resolver, timers
  usleep(200 * 1000);
  grpc_channel_destroy(channel);
  grpc_channel_credentials_release(credentials);
  if (shutdown) grpc_shutdown();
  if (leak) StartOwnLeak();
  puts("done");
  return 0;
}
