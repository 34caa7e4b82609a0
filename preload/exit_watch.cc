#include "preload/exit_watch.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>

#include "preload/options.h"
#include "preload/reporter.h"
#include "preload/thread_scan.h"

namespace threadleak {
namespace {

constexpr int64_t kStillWhenSomeCouldWakeNs = 10'000'000'000;
constexpr int64_t kShortestStillNs = 1'000'000'000;
constexpr size_t kMaxTasks = 1 << 16;

bool IsFutexWait(long number) {
  return number == SYS_futex || number == SYS_futex_waitv;
}

// A wait that may end by itself: a sleep, a futex wait with a timeout, a poll family call
// (whose timeout /proc does not show).
bool MayWakeByItself(const SyscallState& state) {
  switch (state.number) {
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2:
    case SYS_rt_sigtimedwait:
      return true;
    case SYS_futex:
      return state.fourth_argument != 0;
    default:
      return false;
  }
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
  bool some_could_wake = false;
  // The task list, in memory of its own (this runs in the reporter thread; no malloc).
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
    if (state.running) moving = true;
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
