// Reads of the observed process's memory that cannot fault: process_vm_readv reports an address
// that is no longer mapped (a freed object, an unloaded library) as EFAULT instead of SIGSEGV.
//
// Under a seccomp filter the process inherited (a container runtime's, a service manager's), the
// reads go through /proc/PID/mem instead (open, pread, close): such a filter may kill the process
// for process_vm_readv, a call the program itself never makes, and the hooks never saw it
// installed (a filter the program installs stops reports altogether: runtime.h). A read that
// process_vm_readv refuses (EPERM from a filter's errno action, ENOSYS) switches to it as well.
// The file reads more than process_vm_readv does: pages without read permission, the gap below
// the main stack (which it grows), and a device's memory through the device's own access routine.
// So callers read only readable mappings at or above a stack pointer, and the reachability scan
// leaves device mappings out (reachability.cc). Each read of this process needs a free
// descriptor: with none (EMFILE) it fails.
//
// The observed process is this one in the shim, and the program being reported on in the report
// writer (report_request.h), which sets it once at its start: everything that reads the
// program's memory or its /proc files goes through TargetProcess().
#ifndef THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_
#define THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "preload/io/fixed_buffer.h"

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

// Set once, before the first read (start-up, the writer's start), or by a refused read.
inline constinit std::atomic<bool> g_read_through_proc_mem{false};

// Every later read goes through /proc/PID/mem. `seccomp_mode` is the process's (SeccompMode():
// 0 none, 2 a filter, -1 unknown); any filter counts, as the tool cannot see what it allows.
inline void ChooseMemoryReader(int seccomp_mode) {
  if (seccomp_mode > 0) g_read_through_proc_mem.store(true, std::memory_order_relaxed);
}

inline bool ReadingThroughProcMem() {
  return g_read_through_proc_mem.load(std::memory_order_relaxed);
}

namespace process_memory_detail {

// "/proc/thread-self/mem" (this process, through the calling thread: see ReadBytesOf) or
// "/proc/PID/mem", without snprintf: the shim reads in reports, where nothing that may take a
// lock of the program's is called.
inline FixedBuffer<32> ProcMemPath(pid_t pid) {
  FixedBuffer<32> path;
  path.Append("/proc/");
  if (pid == 0) {
    path.Append("thread-self");
  } else {
    path.AppendInt(pid);
  }
  path.Append("/mem");
  return path;
}

inline int OpenProcMem(pid_t pid) {
  return static_cast<int>(
      syscall(SYS_openat, AT_FDCWD, ProcMemPath(pid).c_str(), O_RDONLY | O_CLOEXEC));
}

// pread as process_vm_readv reports it: how many bytes, or -1 with EFAULT for memory that is not
// mapped (the file says EIO).
inline ssize_t PreadMem(int fd, uintptr_t address, void* out, size_t size) {
  ssize_t got;
  do {
    got = static_cast<ssize_t>(syscall(SYS_pread64, fd, out, size, static_cast<off_t>(address)));
  } while (got < 0 && errno == EINTR);
  if (got < 0 && errno == EIO) errno = EFAULT;
  return got;
}

// Another process's file stays open: the report writer reads the program thousands of times
// (a few per thread), and the descriptor is its own. This process's is opened for each read: in
// the shim a descriptor kept open could be closed by the program and its number reused.
struct OtherProcessMem {
  // The writer reads on one thread; a second one meanwhile opens its own.
  std::atomic_flag busy = ATOMIC_FLAG_INIT;
  pid_t pid = 0;
  int fd = -1;
};
inline constinit OtherProcessMem g_other_process_mem;

// The read through /proc/PID/mem (pid 0: this process).
inline ssize_t ReadThroughProcMem(pid_t pid, uintptr_t address, void* out, size_t size) {
  OtherProcessMem& other = g_other_process_mem;
  if (pid != 0 && !other.busy.test_and_set(std::memory_order_acquire)) {
    if (other.pid != pid) {
      if (other.fd >= 0) syscall(SYS_close, other.fd);
      other.fd = OpenProcMem(pid);
      other.pid = other.fd >= 0 ? pid : 0;
    }
    const ssize_t got = other.fd >= 0 ? PreadMem(other.fd, address, out, size) : -1;
    other.busy.clear(std::memory_order_release);
    return got;
  }
  const int fd = OpenProcMem(pid);
  if (fd < 0) return -1;
  const ssize_t got = PreadMem(fd, address, out, size);
  const int read_errno = errno;
  syscall(SYS_close, fd);
  errno = read_errno;
  return got;
}

}  // namespace process_memory_detail

// Copies `size` bytes at `address` of process `pid` (0: this one) into `out`. Returns how many
// bytes could be read, or -1 (errno says why: EFAULT for memory that is not mapped).
inline ssize_t ReadBytesOf(pid_t pid, uintptr_t address, void* out, size_t size) {
  if (!ReadingThroughProcMem()) {
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(address), size};
    // This process through the calling thread: once main has ended (pthread_exit) the process's
    // pid names a zombie leader without memory, and the read fails with ESRCH.
    const ssize_t got = process_vm_readv(pid != 0 ? pid : gettid(), &local, 1, &remote, 1, 0);
    if (got >= 0 || (errno != EPERM && errno != ENOSYS)) return got;
    g_read_through_proc_mem.store(true, std::memory_order_relaxed);
  }
  return process_memory_detail::ReadThroughProcMem(pid, address, out, size);
}

// Copies `size` bytes at `address` of the observed process into `out`. Returns how many bytes
// could be read, or -1 (errno says why: EFAULT for memory that is not mapped).
inline ssize_t ReadProcessBytes(uintptr_t address, void* out, size_t size) {
  return ReadBytesOf(g_target_process, address, out, size);
}

// Copies sizeof(T) bytes at `address` into *out. False if they could not all be read.
template <typename T>
bool ReadProcessMemory(uintptr_t address, T* out) {
  return ReadProcessBytes(address, out, sizeof(T)) == static_cast<ssize_t>(sizeof(T));
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_PROCESS_MEMORY_H_
