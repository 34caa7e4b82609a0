// Runs rtld_next_upper's thread: "clean" joins it, "leak" leaves it reading a pipe forever.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char* next_layered_name(void);
const char* dlerror_after_found_lookup(void);
int start_through_rtld_next(int stop);

__attribute__((noinline)) static int StartLibraryThread(int stop) {
  return start_through_rtld_next(stop);
}

int main(int argc, char** argv) {
  int stop = argc < 2 || strcmp(argv[1], "leak") != 0;
  printf("next after upper: %s\n", next_layered_name());
  printf("dlerror after a found lookup: %s\n", dlerror_after_found_lookup());
  if (StartLibraryThread(stop) != 0) return 1;
  if (!stop) usleep(100 * 1000);
  puts("main returns");
  return 0;
}
