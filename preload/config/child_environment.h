// follow_children=0: children started with this process's environment are not watched.
#ifndef THREADLEAK_PRELOAD_CONFIG_CHILD_ENVIRONMENT_H_
#define THREADLEAK_PRELOAD_CONFIG_CHILD_ENVIRONMENT_H_

namespace threadleak {

// Removes every libthreadleak.so entry from LD_PRELOAD (the other entries stay, in order), so
// exec, system, popen and posix_spawn with `environ` start programs without the shim. Call at
// start-up, before the program's threads run: setenv is not thread-safe.
void DropShimFromChildEnvironment();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CONFIG_CHILD_ENVIRONMENT_H_
