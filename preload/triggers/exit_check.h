// The leak check at exit. The exit begins at main's return (through a wrapper around main) or
// exit(); the check runs at its very end, after the atexit handlers, the static destructors and
// every library's finalizer (right after the loader's finalizer, the first exit handler
// registered and so the last run), so threads that destructors join are no leaks. An exit that
// stops for good before that — a destructor destroying a condition variable a leaked thread
// waits on, joining a leaked thread, waiting for a lock a leaked thread holds — is reported
// where it stopped, by the monitor thread, which watches it (monitor_thread.h, NoteExitBegan,
// registered at start-up with ListenForExitBegan).
#ifndef THREADLEAK_PRELOAD_TRIGGERS_EXIT_CHECK_H_
#define THREADLEAK_PRELOAD_TRIGGERS_EXIT_CHECK_H_

#include <cstdint>

#include "preload/core/real_functions.h"

namespace threadleak {

// Runs the program's main through libc's __libc_start_main, with main's return seen (BeginExit)
// and the check placed right after the loader's finalizer `rtld_fini`.
int StartMainWatchingExit(MainFn main, int argc, char** argv, void (*init)(), void (*fini)(),
                          void (*rtld_fini)(), void* stack_end);

// Who hears that an exit began, to watch it (the monitor thread's NoteExitBegan): set once at
// start-up. The exit check knows nothing of the monitor thread, which asks it about the exit.
void ListenForExitBegan(void (*listener)());

// The exit begins (exit(), main's return): remembers the status and which thread exits, and has
// the monitor thread watch the exit. A second thread calling it while another exits waits for the
// outcome (and is not reported). Does nothing in a process whose tool state is not its own (a
// vfork child: runtime.h, OwnsToolState), nor before start-up (startup.h,
// EnsureRuntimeInitialized, which the exit hook calls first).
void BeginExit(int status);

// Gives live threads the grace period (linger_ms), then reports those still alive. With leaks it
// writes the report, flushes stdio and ends the process at once with the exit status; without,
// it returns and the exit goes on. Runs once per process; `status` counts only if no exit began
// through BeginExit (the last thread ending after main called pthread_exit).
void RunExitCheck(int status);

// Whether the check runs after the loader's finalizer (the shim saw __libc_start_main).
bool CheckFollowsTheLoadersFinalizer();

// The thread whose exit is under way and not yet checked, or 0.
int32_t ExitingThread();

// Whether `tid` is a thread waiting in exit() for another thread's exit to finish.
bool WaitsForTheCheck(int32_t tid);

// The exit of `exiting_tid` has stopped for good: reports every thread left, that one marked
// (TL_THREAD_EXITING) with the stack where its exit waits, and ends the process with the leak
// status. Returns only if the check has begun meanwhile. From the monitor thread.
void ReportExitHang(int32_t exiting_tid);

void ResetExitCheckAfterFork();

// What to do with a stream whose lock another thread holds: at the exit check, after a leak
// report, the holder is a leaked thread that will never give it back, and exit() itself flushes
// without the lock (kFlushAnyway); while the program's threads still run (the time limit), a
// holder may be writing to it right now (kSkip).
enum class StreamLockHeld { kFlushAnyway, kSkip };

// Flushes stdio streams that have pending output, never waiting for a stream's lock (a leaked
// thread blocked in fgets() holds stdin's forever).
void FlushStdioWithoutBlocking(StreamLockHeld when_held);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TRIGGERS_EXIT_CHECK_H_
