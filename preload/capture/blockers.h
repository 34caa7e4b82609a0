// Who a blocked thread waits for, read at report time from the objects themselves: glibc stores
// a mutex's owner and a rwlock's writer as a tid; a join names its thread. Plus the facts the
// report's analysis needs about cond/futex/sem waits: which live threads could still wake them,
// and whether the exit path destroys the object.
//
// Reads of the program's memory go through process_vm_readv, so an object freed and unmapped
// meanwhile yields "unknown", never a crash.
#ifndef THREADLEAK_PRELOAD_CAPTURE_BLOCKERS_H_
#define THREADLEAK_PRELOAD_CAPTURE_BLOCKERS_H_

#include <cstdint>

#include "preload/capture/thread_list.h"

namespace threadleak {

// First pass: blocker_tid, rwlock_readers, object_flags, wakers. `monitor_tid` is never
// counted as a waker (it is making the report; at exit it is on its way out).
void ReadBlockers(ThreadList* list, int32_t monitor_tid);

// Second pass, some time later: blocker_tid_second_read and blocker_exited. An owner that
// changed in between is not trusted by the analysis.
void ConfirmBlockers(ThreadList* list);

// From the __cxa_atexit hook: `object` has a destructor that exit() will run.
void NoteDestroyedAtExit(const void* object);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_BLOCKERS_H_
