// Names of the system calls a blocked thread is commonly found in ("read", "accept4", ...).
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_SYSCALL_NAMES_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_SYSCALL_NAMES_H_

#include <cstdint>
#include <string>

namespace threadleak {

// "read" for SYS_read; "syscall 1234" for numbers outside the table.
std::string SyscallName(int64_t number);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_SYSCALL_NAMES_H_
