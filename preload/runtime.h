// Start-up of the shim: options, real functions, the unwinder, the main thread's record and the
// fork handlers. Runs from the shim's constructor, or earlier from the first hook that needs it
// (another library's constructor may create a thread before ours runs).
#ifndef THREADLEAK_PRELOAD_RUNTIME_H_
#define THREADLEAK_PRELOAD_RUNTIME_H_

#include <pthread.h>

namespace threadleak {

// Idempotent; other threads wait while one initialises. Call outside the tool's scope.
void EnsureRuntimeInitialized();

// True in a secure-execution process (AT_SECURE), or in a copy of the shim loaded after another,
// where the shim does nothing but forward calls. Valid after EnsureRuntimeInitialized().
bool RuntimeInert();

// Program threads still running: main, and every thread created through the hook (counted by
// the creator, before it exists), each until its exit key destructor's last round. When main
// has ended without exit() (pthread_exit, thrd_exit, cancellation) and the count reaches zero,
// the reporter thread is stopped: glibc ends the process when its last thread ends, and ours
// must not keep it alive.
void NoteProgramThreadStarted();
void NoteProgramThreadNotStarted();  // pthread_create failed
void NoteProgramThreadEnded();

// The key whose destructor marks a thread finished (runs on return, pthread_exit and cancel).
pthread_key_t ThreadExitKey();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_RUNTIME_H_
