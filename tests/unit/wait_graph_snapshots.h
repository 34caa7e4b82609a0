// Snapshots built by hand for the wait-graph tests: the analysis's (wait_graph_test.cc, facts)
// and the writers' (wait_graph_text_test.cc, words).
#ifndef THREADLEAK_TESTS_UNIT_WAIT_GRAPH_SNAPSHOTS_H_
#define THREADLEAK_TESTS_UNIT_WAIT_GRAPH_SNAPSHOTS_H_

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "preload/core/snapshot.h"

namespace threadleak::handmade {

using Tids = std::vector<int32_t>;

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline tl_thread Thread(int32_t tid, const char* name, uint32_t state, uintptr_t object = 0) {
  tl_thread thread{};
  thread.tid = tid;
  strncpy(thread.name, name, TL_NAME_LEN - 1);
  thread.state = state;
  thread.object = object;
  thread.blocked_ns = -1;
  thread.syscall_number = -1;
  thread.creator_tid = -1;
  return thread;
}

// A wait for a thread (mutex owner, rwlock writer, joined thread), read the same twice.
inline tl_thread WaitsFor(int32_t tid, const char* name, uint32_t state, uintptr_t object,
                          int32_t blocker) {
  tl_thread thread = Thread(tid, name, state, object);
  thread.blocker_tid = blocker;
  thread.blocker_tid_second_read = blocker;
  return thread;
}

inline tl_thread WaitsForWake(int32_t tid, const char* name, uint32_t state, uintptr_t object,
                              std::vector<int32_t> wakers) {
  tl_thread thread = Thread(tid, name, state, object);
  thread.waker_count = static_cast<uint32_t>(wakers.size());
  for (size_t i = 0; i < wakers.size() && i < TL_MAX_WAKERS; ++i) thread.wakers[i] = wakers[i];
  return thread;
}

// Owns the threads a snapshot points to.
struct Snapshot {
  explicit Snapshot(std::vector<tl_thread> t, uint32_t trigger = TL_TRIGGER_EXIT)
      : threads(std::move(t)) {
    snapshot.pid = 1234;
    snapshot.trigger = trigger;
    snapshot.thread_count = static_cast<uint32_t>(threads.size());
    snapshot.threads = threads.data();
  }
  std::vector<tl_thread> threads;
  tl_snapshot snapshot{};  // field by field: the struct grows
};

}  // namespace threadleak::handmade

#endif  // THREADLEAK_TESTS_UNIT_WAIT_GRAPH_SNAPSHOTS_H_
