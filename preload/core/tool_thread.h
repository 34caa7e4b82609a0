// Which thread of the process is threadleak's own (the monitor thread, triggers/monitor_thread.h),
// for the parts that must leave it out of every report. Written by the monitor thread as it
// starts and stops; a fork child, which does not have its parent's, sees none (the pid differs).
#ifndef THREADLEAK_PRELOAD_CORE_TOOL_THREAD_H_
#define THREADLEAK_PRELOAD_CORE_TOOL_THREAD_H_

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace threadleak {

inline constinit std::atomic<int32_t> g_tool_thread_tid{0};
inline constinit std::atomic<pid_t> g_tool_thread_pid{0};         // the process that started it
inline constinit std::atomic<uintptr_t> g_tool_thread_handle{0};  // its pthread_t, as a number

// The tool's thread in this process, or 0.
inline int32_t ToolThreadTid() {
  return g_tool_thread_pid.load(std::memory_order_acquire) == getpid()
             ? g_tool_thread_tid.load(std::memory_order_acquire)
             : 0;
}

// Its pthread_t, as a number, or 0 (as ToolThreadTid): the reachability scan bounds its stack.
inline uintptr_t ToolThreadHandle() {
  return ToolThreadTid() != 0 ? g_tool_thread_handle.load(std::memory_order_acquire) : 0;
}

inline bool IsToolThread(int32_t tid) {
  return tid != 0 && g_tool_thread_pid.load(std::memory_order_relaxed) == getpid() &&
         g_tool_thread_tid.load(std::memory_order_relaxed) == tid;
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_TOOL_THREAD_H_
