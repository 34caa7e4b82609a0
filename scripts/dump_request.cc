// threadleak-dump-request: asks a process running under threadleak for a dump of its threads.
// Used by `threadleak dump PID`; the wrapper then waits for the dump and prints it.
//
// The request goes to threadleak's own thread in that process alone (rt_tgsigqueueinfo), with a
// marker value, so no thread of the program is interrupted and a signal from anyone else keeps
// its usual effect (preload/reporter.h). Which signal: the one the thread is waiting for — the
// only one missing from its blocked mask while it waits in sigtimedwait — so whatever set
// dump_signal (environment, include= file, the program's default options) is respected.
//
// Usage: threadleak-dump-request PID
// Prints "TID DUMPS" (the thread, and how many dumps it had written before this request) and
// exits 0 once the request is sent. Otherwise one line on stderr and:
//   3  the process has no threadleak thread (not under threadleak, or only its main thread),
//   4  dumps are off in that process (dump_signal=none),
//   5  its threadleak thread did not get ready for a request within 5 s (busy with a report),
//   1  the request could not be sent (another user's process, or it ended).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "scripts/dump_request.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: threadleak-dump-request PID\n");
    return 2;
  }
  pid_t pid = atoi(argv[1]);
  using namespace threadleak;
  std::optional<ToolThread> thread = FindToolThread(pid);
  if (!thread) {
    fprintf(stderr, "threadleak: process %d has no threadleak thread\n", pid);
    return 3;
  }
  if (thread->name == "threadleak") {
    fprintf(stderr, "threadleak: process %d has dumps off (dump_signal=none)\n", pid);
    return 4;
  }
  // Between reports the thread waits for the signal; during one, every signal is blocked.
  int signal = 0;
  for (int tries = 0; tries < 500 && signal == 0; ++tries) {
    signal = AwaitedSignal(pid, thread->tid);
    if (signal == 0) {
      timespec pause = {0, 10'000'000};
      nanosleep(&pause, nullptr);
    }
  }
  if (signal == 0) {
    fprintf(stderr, "threadleak: the threadleak thread of process %d is not ready for a request\n",
            pid);
    return 5;
  }
  // Read the name again now: the count it shows is the one before this request.
  std::string name =
      ReadLine("/proc/" + std::to_string(pid) + "/task/" + std::to_string(thread->tid) + "/comm");
  if (!SendDumpRequest(pid, thread->tid, signal)) {
    fprintf(stderr, "threadleak: cannot send the dump request to process %d: %s\n", pid,
            strerror(errno));
    return 1;
  }
  printf("%d %s\n", thread->tid, name.substr(name.find('/') + 1).c_str());
  return 0;
}
