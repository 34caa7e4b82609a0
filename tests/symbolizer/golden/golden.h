// Shared by the golden program and the libraries it loads.
#ifndef THREADLEAK_TESTS_SYMBOLIZER_GOLDEN_GOLDEN_H_
#define THREADLEAK_TESTS_SYMBOLIZER_GOLDEN_GOLDEN_H_

#include <pthread.h>

#define GOLDEN_NOINLINE __attribute__((noinline))
#define GOLDEN_INLINE __attribute__((always_inline)) inline
// After a call that must stay a call (not a tail call) in its caller's frame.
#define GOLDEN_KEEP_FRAME() asm volatile("" ::: "memory")

extern "C" {
// Implemented by the program: blocks the calling thread forever, after naming it `name`.
typedef void (*golden_park_fn)(const char* name);

// golden_plugin.so: starts a thread that runs the plugin's code, which parks in the program.
void golden_plugin_start(golden_park_fn park);

// golden_departed.so: starts a thread running `start` (the program's code) with pthread_create;
// the library can then be unloaded while the thread lives on.
void golden_departed_start(void* (*start)(void*));
}

#endif  // THREADLEAK_TESTS_SYMBOLIZER_GOLDEN_GOLDEN_H_
