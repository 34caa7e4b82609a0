// Another process's memory and its layout, read without stopping or signalling it: bytes through
// process_vm_readv (an unmapped or torn address fails, never faults), the mappings from
// /proc/PID/maps, a task's place in a system call from /proc/PID/task/TID/syscall. Works on any
// pid the caller may read; nothing here dereferences an address of the target. Allocates; not
// async-signal-safe.
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_TARGET_MEMORY_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_TARGET_MEMORY_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace threadleak {

// The page size the targets' allocators and loaders work in (x86-64 and AArch64 Linux by default),
// for aligning reads and walking heaps page by page.
inline constexpr uintptr_t kTargetPageSize = 4096;

class TargetMemory {
 public:
  explicit TargetMemory(pid_t pid) : pid_(pid) {}
  pid_t pid() const { return pid_; }

  // All `size` bytes at `address`, or false.
  bool Read(uintptr_t address, void* out, size_t size) const;
  template <typename T>
  bool Read(uintptr_t address, T* out) const {
    return Read(address, out, sizeof(T));
  }
  // As many bytes as can be read from the start of [address, address + size): stops at the
  // first page that cannot be read.
  size_t ReadPrefix(uintptr_t address, void* out, size_t size) const;

 private:
  pid_t pid_;
};

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;
  uint64_t offset = 0;
  uint64_t inode = 0;
  std::string path;  // "" for anonymous memory; "[heap]", "[stack]", "/usr/lib/..."
  bool anonymous() const { return inode == 0 && (path.empty() || path[0] != '/'); }
};

// The target's mappings in address order; empty if /proc/PID/maps cannot be read.
std::vector<Mapping> ReadMappings(pid_t pid);

// Where a task is, from /proc/PID/task/TID/syscall.
struct TaskSyscall {
  bool known = false;    // the file could be read
  bool running = false;  // not in a system call ("running")
  long number = -1;
  uintptr_t args[6] = {};
  uintptr_t sp = 0;
  uintptr_t pc = 0;
};
TaskSyscall ReadTaskSyscall(pid_t pid, pid_t tid);

// The tids in /proc/PID/task, ascending.
std::vector<pid_t> ListTaskIds(pid_t pid);

// /proc/PID/task/TID/comm without its newline, or "".
std::string TaskName(pid_t pid, pid_t tid);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_TARGET_MEMORY_H_
