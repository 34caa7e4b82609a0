// dump_on_fatal=1: a dump of every thread before the process dies of a signal it has no handler
// of its own for — SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGALRM sent to a hung program (a test
// runner's timeout, Ctrl-C), or SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL from a crash. The
// thread that took the signal is in the dump, marked, with its stack where the signal found it.
// Then the process dies of that same signal, as it would have: the same status, a core dump
// where the system makes one.
//
// Only signals whose action is the default at start-up get threadleak's handler (an inherited
// SIG_IGN stays ignored). The program owns each signal again the moment it sets an action for it
// (sigaction, signal), and asking for the action shows the default, as without threadleak.
// The handler makes the report with system calls only (the report writer is a process of its
// own), and makes none when the signal interrupted threadleak's own code.
#ifndef THREADLEAK_PRELOAD_TRIGGERS_FATAL_SIGNALS_H_
#define THREADLEAK_PRELOAD_TRIGGERS_FATAL_SIGNALS_H_

#include <signal.h>

namespace threadleak {

// At start-up, when dump_on_fatal is set.
void InstallFatalSignalDumps();

// From the sigaction and signal hooks, before the real call: if threadleak's handler holds
// `signal`, the signal is the program's once it sets an action (`sets`), and the action the
// program sees as previous is returned (the default); null when threadleak has no part in it.
const struct sigaction* NoteProgramFatalSignalAction(int signal, bool sets);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TRIGGERS_FATAL_SIGNALS_H_
