// A dump must not change what the program sees, but the signal that samples a thread's stack
// makes some blocking calls (nanosleep, poll, epoll_wait, select, ...) return EINTR even with
// SA_RESTART. The sampling handler counts its visits per thread; the hooks of those calls
// compare the count around the call and, when the EINTR was the tool's, resume the call with
// the time that remains.
//
// A program signal arriving in the very same call is indistinguishable and is absorbed too;
// the window is the sampling of one dump.
#ifndef THREADLEAK_PRELOAD_INTERRUPTIONS_H_
#define THREADLEAK_PRELOAD_INTERRUPTIONS_H_

#include <errno.h>

#include <cstdint>

namespace threadleak {

inline constinit thread_local uint32_t t_tool_interruptions
    __attribute__((tls_model("initial-exec"))) = 0;

// Called from the sampling signal handler.
inline void NoteToolInterruption() {
  ++t_tool_interruptions;
}

class InterruptionWatch {
 public:
  InterruptionWatch() : before_(t_tool_interruptions) {}
  // True when a call that failed with EINTR was interrupted by the tool: call it again.
  bool ShouldResume(long result) const {
    return result == -1 && errno == EINTR && t_tool_interruptions != before_;
  }

 private:
  uint32_t before_;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_INTERRUPTIONS_H_
