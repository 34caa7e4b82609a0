// A library the golden program dlopens, uses to start a thread, and dlcloses while that thread
// lives on. Plain C++ (no templates, no inline statics: nothing that would pin it in memory), so
// that dlclose really unmaps it: the thread's creation stack then points into nothing, or into
// whatever is loaded there next.
#include <pthread.h>

#include "tests/symbolizer/golden/golden.h"

namespace departed_ns {

GOLDEN_NOINLINE void Launch(void* (*start)(void*)) {
  pthread_t thread;
  pthread_create(&thread, nullptr, start, nullptr);  // golden: departed_ns::Launch creates
  pthread_detach(thread);
  GOLDEN_KEEP_FRAME();
}

}  // namespace departed_ns

extern "C" __attribute__((visibility("default"))) void golden_departed_start(
    void* (*start)(void*)) {
  departed_ns::Launch(start);
  GOLDEN_KEEP_FRAME();
}
