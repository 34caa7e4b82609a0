// The exit's entry points: where the program starts (so that main's return is seen and the
// check can follow the loader's finalizer), exit(), and the registration of objects destroyed at
// exit. What they start is in triggers/exit_check.h.
#include "preload/capture/blockers.h"
#include "preload/core/guard.h"
#include "preload/core/real_functions.h"
#include "preload/core/runtime.h"
#include "preload/hooks/export.h"
#include "preload/startup/startup.h"
#include "preload/triggers/exit_check.h"

using namespace threadleak;

THREADLEAK_EXPORT int __libc_start_main(MainFn main, int argc, char** argv, void (*init)(),
                                        void (*fini)(), void (*rtld_fini)(), void* stack_end) {
  EnsureRuntimeInitialized();  // (done already: preloaded libraries' constructors ran first)
  if (RuntimeInert()) {
    return Real().libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
  }
  return StartMainWatchingExit(main, argc, argv, init, fini, rtld_fini, stack_end);
}

THREADLEAK_EXPORT void exit(int status) {
  // An exit() before the shim's constructor ran (from another library's constructor) is checked
  // too. Not from the tool's own code, which may be the start-up itself.
  if (!t_in_tool) EnsureRuntimeInitialized();
  BeginExit(status);
  Real().exit(status);
  __builtin_unreachable();
}

THREADLEAK_EXPORT int __cxa_atexit(void (*destructor)(void*), void* object, void* dso_handle) {
  NoteDestroyedAtExit(object);
  return Real().cxa_atexit(destructor, object, dso_handle);
}
