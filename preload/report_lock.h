// One report at a time: the exit check, dumps, the watchdog and the API share the stack
// sampler and the log file, and reports must never interleave.
#ifndef THREADLEAK_PRELOAD_REPORT_LOCK_H_
#define THREADLEAK_PRELOAD_REPORT_LOCK_H_

#include "preload/spin_lock.h"

namespace threadleak {

inline constinit SpinLock g_report_lock;

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_LOCK_H_
