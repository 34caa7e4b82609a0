// threadleak.h — ask the thread-leak sanitizer, from inside the program, whether the threads
// started since a point of its choosing have all ended.
//
// Under threadleak the whole process is checked once, when it exits. This header adds checks at
// points the program chooses, typically around each test (goleak's VerifyNone):
//
//   #include <threadleak.h>
//
//   uint64_t mark = threadleak_mark();
//   RunOneTest();
//   if (threadleak_check(mark, THREADLEAK_LINGER_DEFAULT) > 0) {
//     // RunOneTest left threads running; the report went where threadleak's reports go.
//   }
//
// (In C++ the second argument may be left out: threadleak_check(mark).) For GoogleTest, see
// threadleak/gtest.h: it does this around every test.
//
// What it guarantees:
//   - Header-only, for C (C99 and later) and C++. Nothing to link: on first use each function
//     looks up the entry points of libthreadleak.so with dlsym(RTLD_DEFAULT, ...) and caches
//     them. dlsym is in libc from glibc 2.34; older glibc needs -ldl.
//   - Without the shim (the program was not started under threadleak or LD_PRELOAD) every
//     function does nothing and returns at once: threadleak_active() and threadleak_mark()
//     return 0, threadleak_check() returns 0, threadleak_dump() returns -1 with errno ENOSYS.
//     A program can call them unconditionally and ship with the calls in.
//   - Thread-safe. Not async-signal-safe: the first call runs dlsym, a check may wait, a report
//     is written with the shim's report lock held.
//   - The functions never stop or change a thread; they only look.
#ifndef THREADLEAK_H_
#define THREADLEAK_H_

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

// For threadleak_check: use the `linger_ms` option (THREADLEAK_OPTIONS, default 500 ms).
#define THREADLEAK_LINGER_DEFAULT (-1)

// Spelled so that the header compiles cleanly with -Wpedantic, -Wold-style-cast and
// -Wzero-as-null-pointer-constant. dlsym's void* becomes a function pointer by memcpy, which
// neither ISO C nor C++ objects to.
#ifdef __cplusplus
#define THREADLEAK_DEFAULT_ARG_(value) = value
#define THREADLEAK_NULL_ nullptr
#else
#define THREADLEAK_DEFAULT_ARG_(value)
#define THREADLEAK_NULL_ ((void*)0)
#endif

// dlfcn.h declares RTLD_DEFAULT only with _GNU_SOURCE (g++ defines it, C compilers do not);
// its value is the null handle in glibc and musl.
#ifdef RTLD_DEFAULT
#define THREADLEAK_RTLD_DEFAULT_ RTLD_DEFAULT
#else
#define THREADLEAK_RTLD_DEFAULT_ THREADLEAK_NULL_
#endif

typedef uint64_t (*threadleak_mark_fn_)(void);
typedef int (*threadleak_check_fn_)(uint64_t, int);
typedef int (*threadleak_dump_fn_)(int);

// The shim's entry points, looked up all at once: a shim without one of them counts as absent.
struct threadleak_api_ {
  void* mark;   // uint64_t threadleak_api_mark_v1(void)
  void* check;  // int threadleak_api_check_v1(uint64_t mark, int linger_ms)
  void* dump;   // int threadleak_api_dump_v1(int fd)
};

static inline const struct threadleak_api_* threadleak_api_table_(void) {
  static struct threadleak_api_ api;
  static int looked_up;
  if (!__atomic_load_n(&looked_up, __ATOMIC_ACQUIRE)) {
    // Threads racing here all store the same values.
    void* mark = dlsym(THREADLEAK_RTLD_DEFAULT_, "threadleak_api_mark_v1");
    void* check = dlsym(THREADLEAK_RTLD_DEFAULT_, "threadleak_api_check_v1");
    void* dump = dlsym(THREADLEAK_RTLD_DEFAULT_, "threadleak_api_dump_v1");
    if (mark != THREADLEAK_NULL_ && check != THREADLEAK_NULL_ && dump != THREADLEAK_NULL_) {
      __atomic_store_n(&api.mark, mark, __ATOMIC_RELAXED);
      __atomic_store_n(&api.check, check, __ATOMIC_RELAXED);
      __atomic_store_n(&api.dump, dump, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&looked_up, 1, __ATOMIC_RELEASE);
  }
  return &api;
}

// 1 if the program runs under threadleak (libthreadleak.so is loaded), else 0.
static inline int threadleak_active(void) {
  return __atomic_load_n(&threadleak_api_table_()->mark, __ATOMIC_RELAXED) != THREADLEAK_NULL_;
}

// A mark: the number of threads the process has created so far. Pass it to threadleak_check.
// 0 without the shim.
static inline uint64_t threadleak_mark(void) {
  void* fn = __atomic_load_n(&threadleak_api_table_()->mark, __ATOMIC_RELAXED);
  threadleak_mark_fn_ mark;
  if (fn == THREADLEAK_NULL_) return 0;
  memcpy(&mark, &fn, sizeof mark);
  return mark();
}

// Checks the threads created after `mark`, by any thread of the process, with the rules of the
// exit check: those still alive get a grace period of `linger_ms` (THREADLEAK_LINGER_DEFAULT: the
// `linger_ms` option) to finish, polled with backoff, and a thread that finished but was never
// joined or detached counts as alive. The survivors are reported like a leak at exit — to the
// log destination, in the configured format, with "trigger":"api" — and their number is
// returned; suppressed threads are not counted. Returns 0 when none are left — nothing is
// written then, and the call waits only as long as the threads take to end — and without the
// shim.
//
// Threads created before the mark are never reported here, even if still running, nor is the
// calling thread or the main thread. The process goes on either way: only the exit check ends it.
static inline int threadleak_check(
    uint64_t mark, int linger_ms THREADLEAK_DEFAULT_ARG_(THREADLEAK_LINGER_DEFAULT)) {
  void* fn = __atomic_load_n(&threadleak_api_table_()->check, __ATOMIC_RELAXED);
  threadleak_check_fn_ check;
  if (fn == THREADLEAK_NULL_) return 0;
  memcpy(&check, &fn, sizeof check);
  return check(mark, linger_ms);
}

// Writes a dump of every thread of the process (state, stacks, creator; the `format` option
// applies) to `fd`. Returns 0, or -1 if it could not (-1 with errno ENOSYS without the shim).
static inline int threadleak_dump(int fd) {
  void* fn = __atomic_load_n(&threadleak_api_table_()->dump, __ATOMIC_RELAXED);
  threadleak_dump_fn_ dump;
  if (fn == THREADLEAK_NULL_) {
    errno = ENOSYS;
    return -1;
  }
  memcpy(&dump, &fn, sizeof dump);
  return dump(fd);
}

#endif  // THREADLEAK_H_
