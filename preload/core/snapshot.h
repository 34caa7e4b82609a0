// The C ABI between the shim (libthreadleak.so) and the report module
// (libthreadleak_report.so, loaded only when a report is made).
//
// The shim fills a tl_snapshot with plain data — raw program counters, never names — and hands it
// to threadleak_write_report(). Everything here is POD so the shim can build it without the C++
// runtime, and so unit tests can build one by hand.
#ifndef THREADLEAK_PRELOAD_CORE_SNAPSHOT_H_
#define THREADLEAK_PRELOAD_CORE_SNAPSHOT_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { TL_MAX_FRAMES = 64, TL_NAME_LEN = 16 };
// A GoogleTest test's "Suite.Name", NUL-terminated; a longer one is cut to fit, ending in "...".
enum { TL_TEST_NAME_LEN = 128 };

// Keep the order: it is the order of the names in tl_state_name() and of the JSON "state" values.
enum tl_state {
  TL_STATE_MUTEX,
  TL_STATE_COND,
  TL_STATE_RWLOCK,
  TL_STATE_SEM,
  TL_STATE_BARRIER,
  TL_STATE_JOIN,
  TL_STATE_FUTEX,
  TL_STATE_SLEEP,
  TL_STATE_IO,
  TL_STATE_RUNNING,
  TL_STATE_FINISHED,
  TL_STATE_COUNT
};

enum tl_trigger {
  TL_TRIGGER_EXIT,
  TL_TRIGGER_SIGNAL,
  TL_TRIGGER_API,
  TL_TRIGGER_TIMEOUT,
  TL_TRIGGER_WATCHDOG,
  TL_TRIGGER_FATAL_SIGNAL,  // dump_on_fatal: the process is about to die of a signal
};

// What a report lists: leaks (exit, API check), every thread (dumps), threads blocked too long,
// threads proven abandoned (watchdog_abandoned: the report module keeps only those, each once).
enum tl_report_kind { TL_REPORT_LEAKS, TL_REPORT_DUMP, TL_REPORT_WATCHDOG, TL_REPORT_ABANDONED };

enum tl_format { TL_FORMAT_TEXT, TL_FORMAT_JSON, TL_FORMAT_DOT, TL_FORMAT_PPROF };

enum tl_stack_kind {
  TL_STACK_NONE,         // nothing captured (tl_thread::stack_missing may say why)
  TL_STACK_INTERRUPTED,  // pcs[0] is the exact interrupted pc, the rest are return addresses
  TL_STACK_RETURNS,      // every pc is a return address (look up pc - 1)
};

// Why a live thread has no stack (stack.depth == 0), when the report knows.
enum tl_stack_missing {
  TL_MISSING_UNKNOWN,         // nothing said (or a stack was read)
  TL_MISSING_SIGNAL_BLOCKED,  // running with the sampling signal blocked
  TL_MISSING_TRACED,          // running under a debugger, which a signal would stop
  TL_MISSING_SIGNAL_TAKEN,    // running, and the program owns the sampling signal
  TL_MISSING_ALTSTACK,        // running on an alternate signal stack with no room for a frame
  TL_MISSING_NO_ANSWER,       // running, and it did not answer the sampling signal in time
  TL_MISSING_MOVED,           // it left its wait while it was being read
  TL_MISSING_UNREADABLE,      // blocked, but the report writer cannot read the process
};

struct tl_stack {
  uint32_t kind;   // tl_stack_kind
  uint32_t depth;  // valid entries in pcs
  uintptr_t pcs[TL_MAX_FRAMES];
};

enum { TL_MAX_WAKERS = 4 };

// A thread's wait slot as laid out in the shim's memory (ThreadRecord::wait). The thread writes
// it on entering and leaving a hooked wait; a report reads it from another thread.
struct tl_wait_slot {
  // (sequence << 32) | tl_state; the state is TL_STATE_COUNT when not waiting. The sequence
  // counts the thread's waits, so one read of this word tells whether the thread is still in
  // the very wait a report saw.
  uint64_t word;
  uintptr_t object;  // what it waits on
  // When the wait began (CLOCK_MONOTONIC); -1: not recorded; below -1: a reader's stamp
  // (wait_scope.h).
  int64_t since_ns;
  // The frame address of the hook that entered the wait: [frame] holds its caller's frame
  // pointer and [frame + 8] the return address into the caller. Every frame from the caller up
  // stays as it is while the word is unchanged.
  uintptr_t frame;
  uintptr_t callee;  // the libc function the hook called: the stack's innermost frame
  // The hook's return address, as [frame + 8] held it at the start: a slot left behind by a
  // cancellation or a longjmp (its scope never closed) no longer matches its frame.
  uintptr_t return_address;
};

// Where a report starts to unwind a thread that is not running, from another thread: the
// thread itself is never interrupted (preload/report/blocked_stacks.h).
enum tl_unwind_kind {
  TL_UNWIND_NONE,     // running, finished, or nothing known
  TL_UNWIND_HOOK,     // in a hooked wait: from the hook's frame in its wait slot
  TL_UNWIND_SYSCALL,  // in a system call no hook saw: from the kernel's sp and pc
  // Its registers where a signal interrupted it, from its own signal handler, which waits
  // meanwhile (dump_on_fatal): sp, pc, and the frame pointer in `frame`.
  TL_UNWIND_REGISTERS,
};

struct tl_unwind_start {
  uint32_t kind;  // tl_unwind_kind
  uint32_t reserved;
  uintptr_t slot;            // TL_UNWIND_HOOK: address of the thread's tl_wait_slot
  uint64_t word;             // TL_UNWIND_HOOK: the slot's word when the report saw the wait
  uintptr_t frame;           // TL_UNWIND_HOOK: the slot's frame then
  uintptr_t callee;          // TL_UNWIND_HOOK: the slot's callee then
  uintptr_t return_address;  // TL_UNWIND_HOOK: and its return address
  int64_t syscall;           // TL_UNWIND_SYSCALL: the system call number,
  uintptr_t sp;              //   and the stack pointer and pc where it entered the kernel
  uintptr_t pc;
};

enum tl_object_flags {
  // The object lies in static storage and a destructor registered with __cxa_atexit covers it
  // (a static std::condition_variable): exit would run that destructor while this thread waits.
  TL_OBJECT_DESTROYED_AT_EXIT = 1u << 0,
  // Other processes may hold or wake it, so this process's threads alone never decide its
  // waiters' fate (set by the report writer, preload/report/reachability/process_shared.h): it was
  // made with the PTHREAD_PROCESS_SHARED attribute (a pshared semaphore, ...) ...
  TL_OBJECT_PROCESS_SHARED = 1u << 1,
  // ... or it lies in a MAP_SHARED mapping (shm_open, memfd, MAP_SHARED|MAP_ANONYMOUS).
  TL_OBJECT_IN_SHARED_MEMORY = 1u << 2,
};

enum tl_thread_flags {
  TL_THREAD_MAIN = 1u << 0,     // the process's main thread
  TL_THREAD_EXITING = 1u << 1,  // it called exit(), and its exit cannot finish: no leak itself
  TL_THREAD_DYING = 1u << 2,    // it took the fatal signal the process dies of
  // blocked_ns counts from the first report that saw the wait, not from its start (a wait with
  // no time limit records no clock read): the wait is at least that old.
  TL_THREAD_BLOCKED_AT_LEAST = 1u << 3,
};

struct tl_thread {
  int32_t tid;
  uint32_t flags;                 // tl_thread_flags
  char name[TL_NAME_LEN];         // NUL-terminated, may be empty
  uint32_t state;                 // tl_state
  uintptr_t object;               // what it waits on; 0 when none
  int64_t blocked_ns;             // how long it has waited; -1 when unknown
  int64_t syscall_number;         // the system call the kernel says it is blocked in, or -1
  struct tl_stack stack;          // where it is now
  uint32_t stack_missing;         // tl_stack_missing: why `stack` is empty
  struct tl_unwind_start unwind;  // how to find `stack` without interrupting it
  int32_t creator_tid;            // -1 when the shim did not see the thread being created
  char creator_name[TL_NAME_LEN];
  struct tl_stack creation;

  // Who it waits for, read at report time (racy snapshots, so read twice; trust them only
  // when both reads agree). 0 when none or unknown.
  //   mutex: the owner glibc stores in the mutex (0 while the owner sleeps in a condvar wait);
  //   rwlock: the writer; join: the joined thread.
  int32_t blocker_tid;
  int32_t blocker_tid_second_read;
  uint32_t blocker_exited;  // 1: blocker_tid names a thread that no longer exists
  int32_t rwlock_readers;   // rwlock held by readers (no writer): how many; else 0
  uint32_t object_flags;    // tl_object_flags

  // cond, futex, sem: live threads other than this one (and other than the thread making an
  // exit report) that have ever signalled, posted, woken or waited on the object.
  uint32_t waker_count;
  uint32_t wakers_overflow;  // 1: more than TL_MAX_WAKERS, or the tool's table was full
  int32_t wakers[TL_MAX_WAKERS];

  // The GoogleTest test it belongs to, read from GoogleTest's state when it was created
  // (preload/test_frameworks/gtest_state.h). The name is copied then: an exit report runs after the
  // static destructors, and GoogleTest's go first (appended).
  uint32_t test_source;              // tl_test_source
  char test_name[TL_TEST_NAME_LEN];  // TL_TEST_RUNNING, TL_TEST_INHERITED: "Suite.Name"
  // Its pthread_t (glibc: the address of its descriptor, which records its stack block), or 0
  // when the shim did not see it start. Appended; the reachability scan bounds the thread's
  // stack by it (process_layout.h).
  uintptr_t handle;
};

// Where tl_thread::test_name comes from.
enum tl_test_source {
  TL_TEST_UNKNOWN,    // nothing read (no GoogleTest, a stripped program, a layout not
                      // understood, a thread created by another): the creation stack decides
  TL_TEST_RUNNING,    // the test GoogleTest ran when the thread was created
  TL_TEST_INHERITED,  // no test ran then; the test of the thread that created it
  TL_TEST_NONE,       // no test ran then, nor had its creator one: suite-level
};

enum { TL_MODULE_PATH_LEN = 256, TL_BUILD_ID_LEN = 20 };

// A shared library that was dlclose()d while the process ran: pcs captured while it was loaded
// (a creation stack, typically) are named from this record, never from whatever is mapped at
// those addresses now.
struct tl_module {
  uintptr_t start;  // lowest mapped address of its PT_LOAD segments
  uintptr_t end;    // one past the highest
  uintptr_t bias;   // load bias (link_map l_addr): pc - bias is the address in the ELF file
  char path[TL_MODULE_PATH_LEN];
  uint8_t build_id[TL_BUILD_ID_LEN];
  uint32_t build_id_size;  // 0 when it has none
};

// A range of addresses [start, end).
struct tl_range {
  uintptr_t start;
  uintptr_t end;
};

struct tl_snapshot {
  int32_t pid;
  uint32_t trigger;  // tl_trigger: what asked for the report
  uint32_t kind;     // tl_report_kind: what it lists
  uint32_t thread_count;
  const struct tl_thread* threads;
  uint32_t departed_module_count;  // most recent last; older ones may have been dropped
  const struct tl_module* departed_modules;
  int32_t fatal_signal;  // TL_TRIGGER_FATAL_SIGNAL: the signal the process dies of; else 0
  // For the reachability scan (preload/report/reachability/reachability.h). Appended; zero when
  // unknown.
  int32_t reporting_tid;               // the thread making the report (not in `threads`)
  uint32_t tool_memory_count;          // threadleak's own memory in the process: never a root
  const struct tl_range* tool_memory;  // (the registry's chunks, the collected threads)
  uint32_t tool_memory_complete;       // 0: some of it could not be listed
  uintptr_t reporting_stack_from;      // the reporting thread's stack above the report's
                                       // frames (what lies above is the program's)
  uintptr_t reporting_handle;          // the reporting thread's pthread_t, or 0
};

// One suppression rule (preload/config/suppressions.h).
enum tl_suppression_kind {
  TL_SUPPRESS_THREAD,      // thread:NAME
  TL_SUPPRESS_TOP,         // top:FUNC
  TL_SUPPRESS_ANY,         // any:FUNC
  TL_SUPPRESS_CREATED_BY,  // created_by:FUNC
  TL_SUPPRESS_MODULE,      // module:LIB
};

enum { TL_SUPPRESSION_PATTERN_LEN = 256, TL_SUPPRESSION_SOURCE_LEN = 128 };

struct tl_suppression {
  uint32_t kind;  // tl_suppression_kind
  char pattern[TL_SUPPRESSION_PATTERN_LEN];
  char source[TL_SUPPRESSION_SOURCE_LEN];  // "FILE:LINE", for print_suppressions
};

struct tl_report_config {
  uint32_t format;  // tl_format
  int fd;  // where the report goes, written with as few write() calls as possible; when -1,
           // open_destination() gives it, called only if there is something to write (a log
           // file is not created for a report that says nothing)
  int (*open_destination)(void);
  uint32_t symbolize;                         // 0: raw frames (module path, build-id, offset)
  uint32_t demangle;                          // 0: keep mangled names
  uint32_t debuginfod;                        // 1: the symbolizer may use debuginfod
  const char* strip_path_prefix;              // removed from source paths; "" for none
  const struct tl_suppression* suppressions;  // the user's rules
  uint32_t suppression_count;
  uint32_t default_suppressions;  // 1: also the built-in rules for runtimes' own threads
  uint32_t print_suppressions;    // 1: say which rules matched how many threads
  int copy_fd;  // also written here first (the pipe of a `threadleak dump` that asked), or -1
  // Reachability (appended): prove abandoned threads in dumps and watchdog reports too (exit and
  // API reports always try, unless leak_scan_max_mb is 0); the heap size it gives up at.
  uint32_t leak_scan;
  uint32_t leak_scan_max_mb;
};

// Returns the state's stable name ("mutex", "cond", ...), or "unknown".
const char* tl_state_name(uint32_t state);

// Whether the state is a wait on a synchronisation object (mutex, cond, rwlock, sem, barrier,
// join, futex): a wait another thread must end, which the kernel shows as a futex wait.
int tl_state_waits_for_others(uint32_t state);

// Implemented by libthreadleak_report.so. Fills threads[i].stack for every thread whose
// unwind.kind is not TL_UNWIND_NONE, reading its stack from this thread (process_vm_readv of
// its own process: a torn or unmapped read fails, never faults). A thread that left its wait
// during the unwind is unwound again from where it waits now, or left without a stack. Not
// async-signal-safe: allocates, takes locks.
typedef void (*tl_unwind_stacks_fn)(struct tl_thread* threads, uint32_t count);
void threadleak_unwind_stacks(struct tl_thread* threads, uint32_t count);

// Implemented by libthreadleak_report.so. Symbolizes and writes one report. Returns the number
// of threads it counts as leaked (0 for dumps; suppressed threads do not count), or -1 if
// nothing could be written. Not async-signal-safe: allocates, takes locks.
typedef int (*tl_write_report_fn)(const struct tl_snapshot*, const struct tl_report_config*);
int threadleak_write_report(const struct tl_snapshot* snapshot,
                            const struct tl_report_config* config);

#ifdef __cplusplus
}
#endif

#endif  // THREADLEAK_PRELOAD_CORE_SNAPSHOT_H_
