// Per-thread state the hooks read on every call: the reentrancy guard and the thread's record.
//
// initial-exec TLS: a preloaded library always gets static TLS, and this model turns each access
// into one %fs-relative load — no __tls_get_addr call, no allocation, async-signal-safe.
#ifndef THREADLEAK_PRELOAD_CORE_GUARD_H_
#define THREADLEAK_PRELOAD_CORE_GUARD_H_

#include <errno.h>

namespace threadleak {

struct ThreadRecord;

// True while this thread runs the tool's own code: hooks reached from there forward straight to
// libc, so the tool never records, or recurses into, its own waits.
inline constinit thread_local bool t_in_tool __attribute__((tls_model("initial-exec"))) = false;

// The record of the calling thread; null for threads the tool did not see being created and
// after the thread's record was released at its exit.
inline constinit thread_local ThreadRecord* t_record __attribute__((tls_model("initial-exec"))) =
    nullptr;

// Marks a scope as the tool's own work (nests).
class ToolScope {
 public:
  ToolScope() : was_in_tool_(t_in_tool) { t_in_tool = true; }
  ~ToolScope() { t_in_tool = was_in_tool_; }
  ToolScope(const ToolScope&) = delete;
  ToolScope& operator=(const ToolScope&) = delete;

 private:
  bool was_in_tool_;
};

// Saves errno and gives it back: a hook's caller must see only the errno libc left, whatever
// the tool's own calls in between met.
class ErrnoKeeper {
 public:
  ErrnoKeeper() : saved_(errno) {}
  ~ErrnoKeeper() { errno = saved_; }
  ErrnoKeeper(const ErrnoKeeper&) = delete;
  ErrnoKeeper& operator=(const ErrnoKeeper&) = delete;

 private:
  int saved_;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_GUARD_H_
