// The leak check at exit: main's return (through a wrapper around main) or exit(), before the
// program's static destructors run — a leaked thread waiting on a static object would otherwise
// hang the exit before anything was reported.
#ifndef THREADLEAK_PRELOAD_EXIT_CHECK_H_
#define THREADLEAK_PRELOAD_EXIT_CHECK_H_

namespace threadleak {

// Gives live threads the grace period (linger_ms), then reports those still alive. With leaks it
// writes the report, flushes stdio and ends the process at once with the exit status; without,
// it returns and the exit goes on. Runs once per process, in the first thread to get here;
// another thread calling it meanwhile waits for the outcome (and is not reported). Does nothing
// in a process whose tool state is not its own (a vfork child: runtime.h, OwnsToolState).
void RunExitCheck(int status);

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

#endif  // THREADLEAK_PRELOAD_EXIT_CHECK_H_
