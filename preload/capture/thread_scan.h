// What the kernel knows about this process's threads, read from /proc/self/task with raw
// system calls (no stdio, no malloc): the tasks that exist, the system call each is blocked in,
// and names. For threads the hooks cannot see (blocked in read, accept, poll, ... or created
// before the shim or with raw clone).
#ifndef THREADLEAK_PRELOAD_CAPTURE_THREAD_SCAN_H_
#define THREADLEAK_PRELOAD_CAPTURE_THREAD_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace threadleak {

// Stores up to `max` tids of this process's tasks; returns how many exist (may exceed max).
size_t ListTasks(int32_t* tids, size_t max);

struct SyscallState {
  bool known = false;    // the file could be read
  bool running = false;  // on a CPU or runnable, not in a system call
  long number = -1;      // the system call it is in, or -1 (blocked outside one)
  uintptr_t first_argument = 0;
  uintptr_t fourth_argument = 0;  // a futex wait's timeout
  uintptr_t sp = 0;               // user-space stack pointer where it entered the kernel
  uintptr_t pc = 0;               // user-space pc where it entered the kernel

  // Blocked in system call `number` (not running, not blocked outside one, not unknown).
  bool InSystemCall() const { return known && !running && number >= 0; }
};

// Reads /proc/self/task/TID/syscall.
SyscallState ReadSyscallState(int32_t tid);

// A signal mask from /proc/self/task/TID/status: `field` is SigBlk, SigPnd (pending for the
// thread alone), ShdPnd (pending for the process), SigIgn or SigCgt. Bit N-1 is signal N; 0 when
// the file or the field cannot be read.
uint64_t ReadSignalMask(int32_t tid, std::string_view field);

// Whether a debugger (or any tracer) is attached to the process (TracerPid in /proc/self/status).
bool ProcessIsTraced();

// The process's seccomp mode (Seccomp in /proc/self/status): 0 none, 1 strict, 2 filter; -1
// when the file or the field cannot be read.
int SeccompMode();

// Reads /proc/self/task/TID/comm into name (NUL-terminated, without the newline).
void ReadTaskName(int32_t tid, char* name, size_t size);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_THREAD_SCAN_H_
