// Hooks for sigaction and signal: when the program sets an action for the sampler's signal, the
// signal is the program's from then on (stack_sampler.h), and the program sees, as the previous
// action, what it would have seen without threadleak. The same for the fatal signals that
// dump_on_fatal holds (fatal_signals.h). threadleak installs no other handler.
// And sigaltstack, whose bounds the stack sampler needs (stack_sampler.cc).
#include <signal.h>

#include "preload/capture/stack_sampler.h"
#include "preload/core/guard.h"
#include "preload/core/real_functions.h"
#include "preload/core/thread_record.h"
#include "preload/hooks/export.h"
#include "preload/triggers/fatal_signals.h"

using namespace threadleak;

// What the program would see as the previous action of `signal` without threadleak, when
// threadleak has a handler there (the sampler's signal, or dump_on_fatal's); else null.
static const struct sigaction* NoteProgramAction(int signal, bool sets) {
  const struct sigaction* before_us = NoteProgramSignalAction(signal, sets);
  return before_us != nullptr ? before_us : NoteProgramFatalSignalAction(signal, sets);
}

THREADLEAK_EXPORT int sigaction(int signal, const struct sigaction* action,
                                struct sigaction* previous) {
  if (t_in_tool) return Real().sigaction(signal, action, previous);
  const struct sigaction* before_us = NoteProgramAction(signal, action != nullptr);
  int result = Real().sigaction(signal, action, previous);
  if (result == 0 && previous != nullptr && before_us != nullptr) *previous = *before_us;
  return result;
}

THREADLEAK_EXPORT sighandler_t signal(int signal, sighandler_t handler) {
  if (t_in_tool) return Real().signal(signal, handler);
  const struct sigaction* before_us = NoteProgramAction(signal, /*sets=*/true);
  sighandler_t result = Real().signal(signal, handler);
  if (result == SIG_ERR || before_us == nullptr) return result;
  return (before_us->sa_flags & SA_SIGINFO)
             ? reinterpret_cast<sighandler_t>(before_us->sa_sigaction)
             : before_us->sa_handler;
}

THREADLEAK_EXPORT int sigaltstack(const stack_t* stack, stack_t* previous) {
  int result = Real().sigaltstack(stack, previous);
  ThreadRecord* record = t_record;
  if (result == 0 && stack != nullptr && record != nullptr) {
    bool disabled = (stack->ss_flags & SS_DISABLE) != 0;
    record->altstack_size.store(disabled ? 0 : stack->ss_size, std::memory_order_relaxed);
    record->altstack_low.store(disabled ? 0 : reinterpret_cast<uintptr_t>(stack->ss_sp),
                               std::memory_order_relaxed);
  }
  return result;
}
