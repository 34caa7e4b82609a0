// The threads a report collected (capture/thread_collector.h), in memory of the tool's own.
#ifndef THREADLEAK_PRELOAD_CAPTURE_THREAD_LIST_H_
#define THREADLEAK_PRELOAD_CAPTURE_THREAD_LIST_H_

#include <cstddef>

#include "preload/core/snapshot.h"

namespace threadleak {

struct ThreadList {
  tl_thread* threads = nullptr;
  size_t count = 0;
  size_t mapped_bytes = 0;
  size_t unstarted = 0;  // threads created that have not started yet: not in `threads`
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_THREAD_LIST_H_
