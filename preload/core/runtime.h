// Start-up of the shim: options, real functions, the unwinder, the main thread's record and the
// fork handlers. Runs from the shim's constructor, or earlier from the first hook that needs it
// (another library's constructor may create a thread before ours runs).
#ifndef THREADLEAK_PRELOAD_CORE_RUNTIME_H_
#define THREADLEAK_PRELOAD_CORE_RUNTIME_H_

#include <pthread.h>
#include <sys/types.h>

namespace threadleak {

// Idempotent; other threads wait while one initialises. Call outside the tool's scope.
void EnsureRuntimeInitialized();

// True in a secure-execution process (AT_SECURE), or in a copy of the shim loaded after another,
// where the shim does nothing but forward calls. Valid after EnsureRuntimeInitialized().
bool RuntimeInert();

// Program threads still running: main, and every thread created through the hook (counted by
// the creator, before it exists), each until its exit key destructor's last round. When main
// has ended without exit() (pthread_exit, thrd_exit, cancellation) and the count reaches zero,
// the monitor thread is stopped: glibc ends the process when its last thread ends, and ours
// must not keep it alive.
void NoteProgramThreadStarted();
void NoteProgramThreadNotStarted();  // pthread_create failed
void NoteProgramThreadEnded();

// Program threads alive now, main included (1: the caller is alone but for the tool's own).
int ProgramThreadCount();

// The program installed a seccomp filter (prctl(PR_SET_SECCOMP), the seccomp system call): it
// may kill the process for any system call a report makes (open, getdents, mmap, ...), so from
// then on no report is made — not at exit, not in dumps. The program runs as without the tool.
void NoteSeccompFilter();
bool RuntimeSandboxed();

// The key whose destructor marks a thread finished (runs on return, pthread_exit and cancel).
pthread_key_t ThreadExitKey();

// Whether the tool's state is this process's own: false in a child made without the tool
// hearing of it — a vfork child, which shares its parent's memory (anything it writes there
// lands in the parent's state), or a raw clone(). The exit check and the API do nothing there.
// (fork's handlers and the _Fork hook make the state a child's own.) A system call: not for
// fast paths.
bool OwnsToolState();

// _Fork runs no fork handlers: the hook calls `real_fork` through this, which does their work,
// unless the call interrupted the tool's own code on this thread (a signal handler: _Fork is
// async-signal-safe), when the child is left not owning the tool's state.
pid_t ForkWithoutHandlers(pid_t (*real_fork)());

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_RUNTIME_H_
