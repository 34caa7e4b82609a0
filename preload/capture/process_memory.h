// Reads of the observed process's memory that cannot fault: process_vm_readv reports an address
// that is no longer mapped (a freed object, an unloaded library) as EFAULT instead of SIGSEGV.
//
// The observed process is this one in the shim, and the program being reported on in the report
// writer (report_request.h), which sets it once at its start: everything that reads the
// program's memory or its /proc files goes through TargetProcess().
#ifndef THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_
#define THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_

#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>

namespace threadleak {

// 0: this process. One copy per executable or shared object, which is what is wanted: the shim
// never sets it, the writer sets its own.
inline constinit pid_t g_target_process = 0;

inline void SetTargetProcess(pid_t pid) {
  g_target_process = pid;
}

// The pid whose memory and /proc files are read; 0 means this process ("/proc/self").
inline pid_t TargetProcess() {
  return g_target_process;
}

// Copies `size` bytes at `address` of the observed process into `out`. Returns how many bytes
// could be read, or -1 (errno says why: EFAULT for memory that is not mapped).
inline ssize_t ReadProcessBytes(uintptr_t address, void* out, size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  pid_t pid = g_target_process != 0 ? g_target_process : getpid();
  return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

// Copies sizeof(T) bytes at `address` into *out. False if they could not all be read.
template <typename T>
bool ReadProcessMemory(uintptr_t address, T* out) {
  return ReadProcessBytes(address, out, sizeof(T)) == static_cast<ssize_t>(sizeof(T));
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_
