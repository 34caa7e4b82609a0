// Preloaded into an interpreter (node) that cannot create a thread of its own from a script:
// the program's one real leak, started before main.
#include "own_leak.h"

__attribute__((constructor)) static void StartOwnLeakAtLoad(void) {
  StartOwnLeak();
}
