// A library the golden program dlopens after start. Its thread parks inside an inlined function
// of the library.
#include <thread>

#include "tests/symbolizer/golden/golden.h"

namespace plugin_ns {

GOLDEN_INLINE void WaitForEvents(golden_park_fn park) {
  park("plugin");  // golden: plugin_ns::WaitForEvents inlined
  GOLDEN_KEEP_FRAME();
}

GOLDEN_NOINLINE void PollLoop(golden_park_fn park) {
  WaitForEvents(park);  // golden: plugin_ns::PollLoop calls WaitForEvents
  GOLDEN_KEEP_FRAME();
}

}  // namespace plugin_ns

extern "C" __attribute__((visibility("default"))) void golden_plugin_start(golden_park_fn park) {
  std::thread(plugin_ns::PollLoop, park).detach();
}
