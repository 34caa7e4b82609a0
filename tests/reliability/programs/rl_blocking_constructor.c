/* A library whose constructor never returns: dlopen() of it holds the loader's lock for good. */
#include <unistd.h>

__attribute__((constructor)) static void never_returns(void) {
  for (;;) pause();
}
