// The signals threadleak queues to one thread of its own process (rt_tgsigqueueinfo) and the
// values they carry: a dump request from `threadleak dump`, a stop or an exit for the monitor
// thread (triggers/monitor_thread.h), the time limit's timer, the sampler's payload
// (capture/stack_sampler.h). Marked so that none is ever taken for the program's own.
#ifndef THREADLEAK_PRELOAD_CORE_MARKED_SIGNALS_H_
#define THREADLEAK_PRELOAD_CORE_MARKED_SIGNALS_H_

#include <signal.h>
#include <unistd.h>

#include <cstdint>

namespace threadleak {

// The value a dump request carries (si_value): a marker in the top 16 bits, so it is never taken
// for the program's, then the pid of the process asking and one of its descriptors (a pipe) the
// dump is written to as well, or kNoReplyDescriptor.
inline constexpr uintptr_t kDumpRequestMarker = 0x7d0d;
inline constexpr uint32_t kNoReplyDescriptor = 0xffff;
inline constexpr uintptr_t EncodeDumpRequest(uint32_t pid, uint32_t reply_fd) {
  return (kDumpRequestMarker << 48) | (uintptr_t{pid} << 16) | (reply_fd & 0xffff);
}
inline constexpr bool IsDumpRequest(uintptr_t value) {
  return (value >> 48) == kDumpRequestMarker;
}
// The value a stop carries (StopMonitor), and the time limit's timer.
inline constexpr uintptr_t kStopMarker = 0x746c'7374'6f70;       // "tlstop"
inline constexpr uintptr_t kTimeLimitMarker = 0x746c'7469'6d65;  // "tltime"
// The value that tells the monitor thread an exit began (NoteExitBegan).
inline constexpr uintptr_t kExitMarker = 0x746c'6578'6974;  // "tlexit"

// The siginfo of a signal threadleak queues to one thread (rt_tgsigqueueinfo): sent by this
// process, SI_QUEUE, carrying `value` (one of the markers above, or the sampler's payload).
inline siginfo_t MarkedSignal(int signal, uintptr_t value) {
  siginfo_t info = {};
  info.si_signo = signal;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_ptr = reinterpret_cast<void*>(value);
  return info;
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_MARKED_SIGNALS_H_
