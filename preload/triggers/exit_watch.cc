#include "preload/triggers/exit_watch.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <algorithm>

#include "preload/capture/thread_scan.h"
#include "preload/config/options.h"
#include "preload/core/real_functions.h"
#include "preload/core/tool_thread.h"

namespace threadleak {
namespace {

constexpr int64_t kStillWhenSomeCouldWakeNs = 10'000'000'000;
constexpr int64_t kShortestStillNs = 1'000'000'000;
constexpr size_t kMaxTasks = 1 << 16;

bool IsFutexWait(long number) {
  return number == SYS_futex || number == SYS_futex_waitv;
}

// A wait that may end by itself: a sleep, a futex wait with a timeout, a signal wait (whose
// timeout /proc does not show).
bool MayWakeByItself(const SyscallState& state) {
  switch (state.number) {
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
    case SYS_rt_sigtimedwait:
      return true;
    case SYS_futex:
    case SYS_futex_waitv:
      return state.fourth_argument != 0;
    default:
      return false;
  }
}

// A wait that only the program's own threads (or a signal) end: a futex wait, pause.
bool EndedOnlyFromWithin(const SyscallState& state) {
  return IsFutexWait(state.number) || state.number == SYS_pause ||
         state.number == SYS_rt_sigsuspend;
}

// Any other system call waits on the world outside the program, which ends it in its own time:
// a descriptor (a pipe whose reader is slow, a socket, a terminal, the poll family), a child
// process (wait4), a file lock. An exit that waits for such a thread has not stopped for good,
// however long it lasts: without the tool it would finish.
bool OutsideMayEnd(const SyscallState& state) {
  return !state.running && state.number >= 0 && !EndedOnlyFromWithin(state) &&
         !MayWakeByItself(state);
}

// An alarm (ITIMER_REAL, alarm()) may run a handler that ends the wait. The other two interval
// timers count CPU time, which a process whose threads all wait does not use.
bool AlarmArmed() {
  itimerval timer{};
  return Real().syscall(SYS_getitimer, ITIMER_REAL, &timer) == 0 &&
         (timer.it_value.tv_sec != 0 || timer.it_value.tv_usec != 0);
}

uint64_t Mix(uint64_t hash, uint64_t value) {
  hash ^= value + 0x9e3779b97f4a7c15ull + (hash << 6) + (hash >> 2);
  return hash;
}

uint64_t Mix(uint64_t hash, int32_t tid, const SyscallState& state) {
  hash = Mix(hash, static_cast<uint64_t>(tid));
  hash = Mix(hash, static_cast<uint64_t>(state.number));
  hash = Mix(hash, state.sp);
  return Mix(hash, state.pc);
}

}  // namespace

bool ExitWatch::Stopped(int32_t exiting_tid, int64_t now_ns) {
  const SyscallState exiting = ReadSyscallState(exiting_tid);
  if (!exiting.known || exiting.running || !IsFutexWait(exiting.number)) {
    still_since_ns_ = -1;
    return false;
  }
  uint64_t view = Mix(0, exiting_tid, exiting);
  bool some_could_wake = AlarmArmed();
  // The task list, in memory of its own (this runs in the monitor thread; no malloc).
  const size_t bytes = sizeof(int32_t) * kMaxTasks;
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return false;
  auto* tids = static_cast<int32_t*>(memory);
  const size_t count = ListTasks(tids, kMaxTasks);
  bool moving = count > kMaxTasks;
  for (size_t i = 0; i < std::min(count, kMaxTasks) && !moving; ++i) {
    const int32_t tid = tids[i];
    if (tid == exiting_tid || IsToolThread(tid)) continue;
    const SyscallState state = ReadSyscallState(tid);
    if (!state.known) continue;  // ended meanwhile
    if (state.running || OutsideMayEnd(state)) moving = true;
    some_could_wake = some_could_wake || MayWakeByItself(state);
    view = Mix(view, tid, state);
  }
  munmap(memory, bytes);
  if (moving || view != last_view_ || still_since_ns_ < 0) {
    last_view_ = view;
    still_since_ns_ = moving ? -1 : now_ns;
    return false;
  }
  const int64_t grace_ns =
      std::max<int64_t>(GlobalOptions().linger_ms * 1'000'000, kShortestStillNs);
  return now_ns - still_since_ns_ >= (some_could_wake ? kStillWhenSomeCouldWakeNs : grace_ns);
}

}  // namespace threadleak
