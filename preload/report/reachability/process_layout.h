// What the reachability scan needs to know of a process's layout, read from outside: which
// mapping an address is in, where a thread's TCB is, the modules' global data as loaded, and
// which waits only another thread can end. Reads through TargetMemory; allocates.
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_PROCESS_LAYOUT_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_PROCESS_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/reachability/malloc_heap.h"
#include "preload/report/reachability/target_memory.h"

namespace threadleak {

// struct pthread on glibc 2.36 x86-64: `header.tcb` (+0) and `header.self` (+16) hold its own
// address, `tid` is at +720; it sits at the top of a thread's stack mapping, the static TLS
// below it. The scan checks the tid offset against the report's threads before relying on it.
inline constexpr uintptr_t kTcbTidOffset = 720;
inline constexpr uintptr_t kTcbSearch = 64 << 10;  // how far below a stack's top its TCB may be
// `stackblock` and `stackblock_size` in the same struct: the whole block glibc mapped (or the
// program gave with pthread_attr_setstack) for the thread — guard, stack, static TLS and the
// descriptor itself. Measured on glibc 2.36 (pthread_getattr_np reports the same block).
inline constexpr uintptr_t kTcbStackBlockOffset = 1680;
inline constexpr uintptr_t kTcbStackBlockSizeOffset = 1688;

// A device's memory mapped into the process (/dev/mem, a PCI resource under /sys, a UIO or GPU
// buffer, a DMA buffer), by its path in the maps; not a GPU buffer mapped through an anon_inode.
// Read through /proc/PID/mem (capture/process_memory.h) the kernel reads it with the device's own
// access routine — registers that change when read — where process_vm_readv refuses it: the scan
// leaves it out then, as process_vm_readv does. Shared memory (/dev/zero, /dev/shm, /dev/hugepages)
// is ordinary memory.
bool DeviceMapping(std::string_view path);

// In a futex wait with no time limit, as the kernel shows it (every blocked state above ends
// in one: condvars, semaphores, barriers, joins and contended locks all sleep on a futex).
bool InUntimedFutexWait(const TaskSyscall& kernel);

// The index of the mapping (sorted by address) that holds `address`, or -1.
int FindMapping(const std::vector<Mapping>& mappings, uintptr_t address);

// The TCB (struct pthread) in the top kTcbSearch bytes of [start, end), or 0.
uintptr_t FindTcb(const TargetMemory& memory, uintptr_t start, uintptr_t end);

// A thread's own stack block, from its descriptor at `handle` (its pthread_t): [start, end), or
// {0, 0} when the descriptor does not check out — it must name itself (header.tcb, header.self),
// hold `tid`, and lie inside the block it records. A thread's stack cannot be told from the
// mapping that holds it: the kernel merges adjacent anonymous mappings with the same
// protections, so a program's own mmap can share a stack's mapping.
AddressRange ReadStackBlock(const TargetMemory& memory, uintptr_t handle, pid_t tid);

// The writable segments (.data, .bss and the rest of each PT_LOAD with PF_W) of every ELF
// module loaded, from its program headers as mapped: exactly the modules' global data. The
// kernel merges a module's .bss with anonymous mappings placed right after it (a malloc arena,
// say), so the mappings alone cannot tell where .bss ends. Sorted by address.
struct ModuleData {
  uintptr_t start = 0;
  uintptr_t end = 0;
  std::string path;
};
std::vector<ModuleData> ReadModuleData(const TargetMemory& memory,
                                       const std::vector<Mapping>& mappings);

// The path of a loaded module, other than those whose file name starts with `prefix` or
// `except_prefix`, that names a library starting with `prefix` in its DT_NEEDED entries
// ("libunwind"), or "". Such a library is that module's as well as whoever else loaded it.
std::string ModuleNeeding(const TargetMemory& memory, const std::vector<Mapping>& mappings,
                          const std::string& prefix, const std::string& except_prefix);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_PROCESS_LAYOUT_H_
