// Start-up of the shim, and of every fork child's tool state: options, real functions, the
// unwinder, the report writer, the thread lifecycle (main thread, exit key), the fork handlers
// and the monitor thread. Runs from the shim's constructor, or earlier from the first hook that
// needs it (another library's constructor may create a thread before ours runs).
//
// The one place that calls into every room and wires them together (what the lifecycle core and
// the exit check tell the monitor thread is registered here), so nothing but the hooks includes
// it: core/, capture/ and triggers/ never call back up into it.
#ifndef THREADLEAK_PRELOAD_STARTUP_STARTUP_H_
#define THREADLEAK_PRELOAD_STARTUP_STARTUP_H_

#include <sys/types.h>

namespace threadleak {

// Idempotent; other threads wait while one initialises. Call outside the tool's scope.
void EnsureRuntimeInitialized();

// _Fork runs no fork handlers: the hook calls `real_fork` through this, which does their work,
// unless the call interrupted the tool's own code on this thread (a signal handler: _Fork is
// async-signal-safe), when the child is left not owning the tool's state.
pid_t ForkWithoutHandlers(pid_t (*real_fork)());

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_STARTUP_STARTUP_H_
