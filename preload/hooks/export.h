// The mark of a function the shim exports to the program: the only symbols libthreadleak.so
// shows (everything else is hidden, -fvisibility=hidden), listed in preload/libthreadleak.map.
#ifndef THREADLEAK_PRELOAD_HOOKS_EXPORT_H_
#define THREADLEAK_PRELOAD_HOOKS_EXPORT_H_

#define THREADLEAK_EXPORT extern "C" __attribute__((visibility("default")))

#endif  // THREADLEAK_PRELOAD_HOOKS_EXPORT_H_
