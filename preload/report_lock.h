// One report at a time: the exit check, dumps, the watchdog and the API share the stack
// sampler and the log file, and reports must never interleave.
//
// A report can run for a while (the exit check's grace period, symbolization), and another
// thread may fork meanwhile: the child, whose copy of the lock is held by a thread it does not
// have, resets it — in fork's child handler and in the _Fork hook (runtime.cc). A vfork child
// never takes it (its memory is its parent's: OwnsToolState in runtime.h).
#ifndef THREADLEAK_PRELOAD_REPORT_LOCK_H_
#define THREADLEAK_PRELOAD_REPORT_LOCK_H_

#include "preload/spin_lock.h"

namespace threadleak {

inline constinit SpinLock g_report_lock;

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_LOCK_H_
