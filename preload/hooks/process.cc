// Hooks for process-wide calls threadleak must not get in the way of, or must hear of:
//   - unshare and setns, which fail with EINVAL in a multi-threaded process for some namespaces
//     (a user namespace, CLONE_FS): when the program has no thread of its own besides the
//     caller, threadleak's thread is stopped first (and starts again with the program's next
//     thread), so the call sees the process the program made;
//   - prctl(PR_SET_NAME): the tool keeps thread names, and reads one again only after a rename
//     it heard of (core/lifecycle.h);
//   - prctl(PR_SET_SECCOMP), whose filter may kill the process for any system call a report
//     makes: from then on no report is made (runtime.h). The seccomp system call itself is seen
//     by the syscall() hook.
#include <sched.h>
#include <stdarg.h>
#include <sys/prctl.h>

#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/real_functions.h"
#include "preload/core/runtime.h"
#include "preload/hooks/export.h"
#include "preload/triggers/monitor_thread.h"

using namespace threadleak;

THREADLEAK_EXPORT int unshare(int flags) {
  if (!t_in_tool) StopMonitorIfProgramIsAlone();
  return Real().unshare(flags);
}

THREADLEAK_EXPORT int setns(int fd, int type) {
  if (!t_in_tool) StopMonitorIfProgramIsAlone();
  return Real().setns(fd, type);
}

THREADLEAK_EXPORT int prctl(int option, ...) {
  va_list list;
  va_start(list, option);
  unsigned long a2 = va_arg(list, unsigned long), a3 = va_arg(list, unsigned long);
  unsigned long a4 = va_arg(list, unsigned long), a5 = va_arg(list, unsigned long);
  va_end(list);
  int result = Real().prctl(option, a2, a3, a4, a5);
  if (option == PR_SET_NAME) NoteThreadsRenamed();
  if (result == 0 && option == PR_SET_SECCOMP && !t_in_tool) NoteSeccompFilter();
  return result;
}
