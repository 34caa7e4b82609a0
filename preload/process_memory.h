// Reads of this process's memory that cannot fault: process_vm_readv reports an address that
// is no longer mapped (a freed object, an unloaded library) as EFAULT instead of SIGSEGV.
#ifndef THREADLEAK_PRELOAD_PROCESS_MEMORY_H_
#define THREADLEAK_PRELOAD_PROCESS_MEMORY_H_

#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>

namespace threadleak {

// Copies sizeof(T) bytes at `address` into *out. False if they could not all be read (errno
// says why: EFAULT for memory that is not mapped).
template <typename T>
bool ReadProcessMemory(uintptr_t address, T* out) {
  iovec local{out, sizeof(T)};
  iovec remote{reinterpret_cast<void*>(address), sizeof(T)};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(sizeof(T));
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_PROCESS_MEMORY_H_
