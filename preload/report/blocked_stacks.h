// Unwinds the threads of this process that are not running — blocked in a hooked wait, or in a
// system call no hook saw — from the calling thread, without sending them anything.
//
// Why this works: while a thread stays in a wait, every frame above the call that entered it is
// frozen. A hooked wait leaves its frame address in the thread's wait slot (wait_scope.h); a
// system call leaves the stack pointer and pc that /proc/self/task/TID/syscall shows. From
// there libdwfl unwinds with the modules' CFI, reading the stack with process_vm_readv, which
// fails instead of faulting on memory that went away. The slot's word (or the kernel's view) is
// read again after the unwind: a thread that moved meanwhile is unwound again from where it
// waits now (a few times), or left without a stack — never shown with frames it has left.
//
// Why libdwfl and not libunwind's remote API: libdwfl's process view (modules from
// /proc/PID/maps, CFI from .eh_frame and .debug_frame, the frame-pointer fallback of its x86-64
// backend) needs only a memory reader and the first registers, and its module lookups take no
// loader lock; libunwind's remote find_proc_info would have to be written by hand or taken
// from libunwind-ptrace, which maps each ELF file again per lookup. The symbolizer already
// links libdw. README.md "How stacks are read" has the measurements.
//
// Not async-signal-safe (allocates); call from a normal thread with the report lock held.
#ifndef THREADLEAK_PRELOAD_REPORT_BLOCKED_STACKS_H_
#define THREADLEAK_PRELOAD_REPORT_BLOCKED_STACKS_H_

#include <cstddef>
#include <memory>

#include "preload/core/snapshot.h"

namespace threadleak {

// Fills threads[i].stack for every thread whose unwind.kind is not TL_UNWIND_NONE, kind
// TL_STACK_INTERRUPTED: from a hook, the first pc is the entry of the libc function the hook
// called and the rest are return addresses, from the hook's caller up; from a system call, the
// first pc is the kernel's. Frames of the shim itself are left in; the caller drops them.
void UnwindBlockedStacks(tl_thread* threads, size_t count);

// The same, with the process's modules read once, when it is made: the report writer makes one
// as it starts, so the unwind follows the shim's look at /proc as closely as it can (a thread
// that moves between the two is read again or shown without a stack).
class BlockedStackUnwinder {
 public:
  BlockedStackUnwinder();
  ~BlockedStackUnwinder();
  BlockedStackUnwinder(const BlockedStackUnwinder&) = delete;
  BlockedStackUnwinder& operator=(const BlockedStackUnwinder&) = delete;

  void Unwind(tl_thread* threads, size_t count);

 private:
  class Process;
  std::unique_ptr<Process> process_;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_BLOCKED_STACKS_H_
