// Stack capture with libunwind, loaded at start-up with dlopen(RTLD_LOCAL).
//
// Why not link it: libunwind.so.8 exports _Unwind_RaiseException and friends, and `backtrace`.
// In the global scope they would take over C++ exception handling of the program and glibc's
// backtrace(); loaded locally, the program never sees them (../shared/DESIGN.md).
#ifndef THREADLEAK_PRELOAD_CAPTURE_UNWINDER_H_
#define THREADLEAK_PRELOAD_CAPTURE_UNWINDER_H_

#include <ucontext.h>

#include <cstddef>
#include <cstdint>

#include "preload/core/snapshot.h"

namespace threadleak {

// Loads libunwind once; later calls return the first result. Call outside signal handlers.
bool LoadUnwinder();

// The calling thread's stack, innermost first: pcs[i] the pc of frame i (this function's own
// first, then return addresses), sps[i] the stack pointer in frame i — for a return address, the
// caller's once the call returned, just above the slot that held it — or 0 when unknown
// (glibc's backtrace() stands in when libunwind could not be loaded). Returns how many frames
// it stored. Not async-signal-safe.
size_t CaptureCurrentFrames(uintptr_t* pcs, uintptr_t* sps, size_t max);

// From inside a signal handler: the interrupted thread's stack. pcs[0] is the interrupted pc,
// the rest are return addresses. Async-signal-safe once LoadUnwinder() succeeded.
size_t CaptureInterruptedStack(ucontext_t* context, uintptr_t* pcs, size_t max);

// libunwind's writable data (.data, .bss) as ranges of threadleak's own memory, when it provably
// is threadleak's alone: the shim loaded it (no module had it loaded before) and nothing has
// opened it since (the loader's open count of it is still the shim's one). libunwind keeps
// addresses of the stack pages it walked (its cache of validated pages): stale words no program
// put there. Returns how many ranges it wrote, 0 when the data may be the program's too (a
// library that needs libunwind and was loaded later is the report writer's to find).
// Async-signal-safe: reads only.
size_t UnwinderDataIfOwned(tl_range* out, size_t max);

// True if pc lies in the shim itself (its frames are never shown).
bool IsToolAddress(uintptr_t pc);

// Copies pcs that are not the tool's own into out, keeping order. Returns how many.
size_t DropToolFrames(const uintptr_t* pcs, size_t count, uintptr_t* out, size_t max);

// The same in place, for a stack of a report: the tool's frames (a hook between the program and
// libc) are never shown. If the first pc was the tool's, the first one kept is a return address.
void DropToolFrames(tl_stack* stack);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CAPTURE_UNWINDER_H_
