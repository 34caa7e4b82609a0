// Whether an exit under way has stopped for good, judged from outside by the monitor thread,
// which polls it (about every 100 ms) from the moment exit() is called or main returns until the
// leak check begins. Nothing is sent to any thread: everything comes from
// /proc/self/task/TID/syscall.
//
// Stopped for good: the exiting thread sits in a futex wait (a lock, a condition variable, a
// join, the loader's lock — the waits a destructor hangs in) and neither it nor any other thread
// of the program has moved or run since. How long that must last: the grace period (linger_ms,
// at least 1 s) when every other thread waits without a time limit too, in a wait only another
// thread of the program or a signal ends (a futex wait without a timeout, pause); 10 s when some
// thread could wake by itself (a sleep, a timed wait) or an alarm is armed. Never while some
// thread waits on the world outside (a descriptor, the poll family, a child process, a file
// lock): a slow pipe reader or a long child ends that wait in its own time, and the exit with it.
#ifndef THREADLEAK_PRELOAD_TRIGGERS_EXIT_WATCH_H_
#define THREADLEAK_PRELOAD_TRIGGERS_EXIT_WATCH_H_

#include <cstdint>

namespace threadleak {

class ExitWatch {
 public:
  // One look at the exit of `exiting_tid`. True when it has stopped for good.
  bool Stopped(int32_t exiting_tid, int64_t now_ns);

 private:
  uint64_t last_view_ = 0;  // a hash of every thread's state at the last look
  int64_t still_since_ns_ = -1;
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TRIGGERS_EXIT_WATCH_H_
