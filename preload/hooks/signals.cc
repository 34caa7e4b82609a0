// Hooks for sigaction and signal: when the program sets an action for the sampler's signal, the
// signal is the program's from then on (stack_sampler.h), and the program sees, as the previous
// action, what it would have seen without threadleak. The same for the fatal signals that
// dump_on_fatal holds (fatal_signals.h). threadleak installs no other handler.
// And sigaltstack, whose bounds the stack sampler needs (stack_sampler.cc; the lifecycle core
// keeps them), and the longjmp family, which can leave a hooked wait without closing its wait
// slot.
#include <setjmp.h>
#include <signal.h>

#include "preload/capture/stack_sampler.h"
#include "preload/core/guard.h"
#include "preload/core/lifecycle.h"
#include "preload/core/real_functions.h"
#include "preload/core/wait_scope.h"
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
             ? reinterpret_cast<sighandler_t>(reinterpret_cast<void (*)()>(before_us->sa_sigaction))
             : before_us->sa_handler;
}

THREADLEAK_EXPORT int sigaltstack(const stack_t* stack, stack_t* previous) {
  int result = Real().sigaltstack(stack, previous);
  if (result == 0 && stack != nullptr) NoteAltStack(*stack);
  return result;
}

// --- longjmp out of a hooked wait --------------------------------------------------------------
//
// A signal handler that siglongjmps out of a hooked wait (a sleep, a read) leaves the hook without
// closing its wait slot, and a report would show the thread in that wait for ever after. A jump
// to a frame above the hook's frame ends the wait: the slot is closed (wait_scope.h,
// EndWaitLeftByJump). A jump within a handler that blocked (a target below the hook's frame)
// leaves it. Async-signal-safe.

extern "C" void __longjmp_chk(__jmp_buf_tag env[1], int value) __attribute__((noreturn));

namespace {

// Where the jump lands: glibc stores a jmp_buf's stack pointer mangled (PTR_MANGLE: xor with the
// thread's pointer guard at %fs:0x30, then rotate left by 17). 0 where the layout is not known.
uintptr_t JumpTargetStackPointer(const __jmp_buf_tag* env) {
#if defined(__x86_64__) && defined(__GLIBC__)
  uintptr_t guard;
  __asm__("mov %%fs:0x30, %0" : "=r"(guard));
  const auto mangled = static_cast<uintptr_t>(env->__jmpbuf[6]);
  return ((mangled >> 17) | (mangled << 47)) ^ guard;
#else
  (void)env;
  return 0;
#endif
}

void CloseWaitsTheJumpLeaves(const __jmp_buf_tag* env) {
  EndWaitLeftByJump(JumpTargetStackPointer(env));
}

}  // namespace

THREADLEAK_EXPORT void longjmp(__jmp_buf_tag env[1], int value) {
  CloseWaitsTheJumpLeaves(env);
  Real().longjmp(env, value);
  __builtin_unreachable();
}

THREADLEAK_EXPORT void _longjmp(__jmp_buf_tag env[1], int value) {
  CloseWaitsTheJumpLeaves(env);
  Real()._longjmp(env, value);
  __builtin_unreachable();
}

THREADLEAK_EXPORT void siglongjmp(__jmp_buf_tag env[1], int value) {
  CloseWaitsTheJumpLeaves(env);
  Real().siglongjmp(env, value);
  __builtin_unreachable();
}

// What longjmp and siglongjmp become in programs built with _FORTIFY_SOURCE.
THREADLEAK_EXPORT void __longjmp_chk(__jmp_buf_tag env[1], int value) {
  CloseWaitsTheJumpLeaves(env);
  Real().longjmp_chk(env, value);
  __builtin_unreachable();
}
