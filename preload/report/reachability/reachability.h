// Which blocked threads no thread that can still run can reach: abandoned by proof, the way Go's
// goroutine-leak profile finds goroutines nobody can wake.
//
// The scan works on any pid through process_vm_readv and /proc/PID/{maps,task}: it never
// dereferences an address of the target and never signals or stops it.
//
// Roots: the stacks (and, at their top, the thread-local storage) of the threads that can run —
// running, sleeping, in I/O, in a timed wait, or not in the report at all — the program's global
// data (writable file-backed mappings and the anonymous .bss after them), and any anonymous
// memory that is neither malloc's, a thread's stack nor threadleak's own. From there every
// aligned word that points into a malloc block (interior pointers included) keeps the block
// alive, and its words are read in turn. A blocked thread whose object got reached (or whose
// lock owner or joined thread can run) can be woken: it joins the roots, and the marking goes on
// until nothing changes. The blocked threads left are abandoned. The scan is conservative —
// anything that looks like a pointer counts — so it can only err toward "reachable".
//
// It is trusted only if the threads it relies on did not move meanwhile: the wait-slot words
// and the kernel's view of each blocked thread are read before and after; a change retries the
// scan, and after the last attempt the scan reports failure. Threads running user code during
// the scan (their registers cannot be read) make it fail too, as does a heap that cannot be
// walked (malloc_heap.h). A failed scan says why in one sentence; callers keep their other
// verdicts.
//
// Allocates; not async-signal-safe. Call with the report lock held (the snapshot's threads stay
// as they were collected).
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_REACHABILITY_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_REACHABILITY_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/reachability/scan_failure.h"

namespace threadleak {

// What the thread making the report is to the program.
enum class ReportingRole {
  kNone,        // no thread of the target is making it (another process)
  kTool,        // threadleak's own thread (dumps, the watchdog): never a root
  kExiting,     // the thread in exit(): its frames are over, its thread-local storage is not
  kContinuing,  // a program thread that asked (API checks): its frames above the report count
};

struct ReachabilityRequest {
  pid_t pid = 0;
  const tl_thread* threads = nullptr;  // the report's threads, as collected
  size_t count = 0;
  pid_t reporting_tid = 0;  // the thread making the report (not among `threads`), or 0
  ReportingRole reporting_role = ReportingRole::kNone;
  // The stack address above which the reporting thread's frames are the program's (the
  // report's outermost frame): nothing below it is read.
  uintptr_t reporting_stack_from = 0;
  uintptr_t reporting_handle = 0;         // its pthread_t (its stack block is read from it), or 0
  const tl_range* tool_memory = nullptr;  // threadleak's own memory: never read
  size_t tool_memory_count = 0;
  size_t max_bytes = size_t{4096} << 20;  // gives up past this much heap (leak_scan_max_mb)
  int attempts = 5;  // scans tried while threads move or run (1, 4, 16, 64 ms apart)
  // Names a global address for paths ("g_queue"); "" when unknown. Optional.
  std::function<std::string(uintptr_t)> name_global;
};

enum class ThreadFate {
  kNotBlocked,  // it can run by itself (running, sleeping, I/O, a timed wait, finished)
  kReachable,   // blocked, and a thread that can run reaches what it waits on
  kAbandoned,   // blocked, and nothing that can run reaches it
};

// Why a thread in a state that waits for others can run by itself all the same (kNotBlocked).
enum class RunsBecause : uint8_t {
  kNothingToSay,  // its state says it (running, sleeping, finished...), or it is not in one
  kSharedObject,  // what it waits on is shared with other processes, which may wake it
  kLeftTheWait,   // it has left the wait the report shows
  kTimedWait,     // the kernel shows a wait with a time limit
  kNotAsleep,     // the kernel does not show it asleep in that wait (on its way in or out)
};

// Where the scan found the last references to an abandoned thread's object.
enum class LastReferences : uint8_t {
  kOwnStack,     // only on the thread's own stack
  kStuckThread,  // on the stack of `referrer`, a thread that cannot run either
  kNoneFound,    // nowhere a thread that can run could find it
};

// Memory the marking starts from.
enum class RootKind : uint8_t {
  kGlobal,   // a module's global data
  kUnknown,  // anonymous memory threadleak cannot attribute
  kStack,    // the stack of a thread that can run
  kMonitor,  // the stack of the thread making the report
};

struct RootRef {
  RootKind kind = RootKind::kGlobal;
  uintptr_t start = 0;  // where the root's memory begins
  pid_t tid = 0;        // kStack, kMonitor: whose stack
  std::string module;   // kGlobal: the module's path
  bool woken = false;   // kStack: a blocked thread's, found able to run by the fixed point
};

// A heap block on a path, and the offset in it of the word that points on (or of the object).
struct HeapHop {
  uintptr_t block = 0;
  uintptr_t offset = 0;
};

// The chain of pointers by which the scan reached a block, from a root.
struct ReachPath {
  // The walk back ended at `root` (it stops after kMaxPathHops blocks).
  bool from_root = false;
  RootRef root;
  uintptr_t root_word = 0;  // the root's word that points into the first block
  std::string global;       // kGlobal: the variable holding root_word ("g_queue"), or ""
  // Root end first. A path longer than 2 * kPathEnds keeps only its kPathEnds blocks at each
  // end: `length` counts them all.
  std::vector<HeapHop> hops;
  size_t length = 0;
};
inline constexpr size_t kPathEnds = 2;
inline constexpr size_t kMaxPathHops = 10000;

// How a thread that can be woken (kReachable) is reached.
enum class ReachedBy : uint8_t {
  kBlockerCanRun,       // `blocker`, the lock's owner or the joined thread, can run
  kJoinedThreadCanEnd,  // the joined thread, known by the stack that holds its descriptor
  kObjectInRoot,        // the object lies in `root`'s memory
  kPath,                // `path` leads to the object's heap block
  kNextToRoot,          // a word of `root` points just by the object (one kept on a stack)
  kPathNextTo,          // `path` leads to a word that points just by the object
  kUnexplained,
};

// What the scan found of one thread; the fields that apply to its fate.
struct ThreadReach {
  ThreadFate fate = ThreadFate::kNotBlocked;
  RunsBecause runs_because = RunsBecause::kNothingToSay;        // kNotBlocked
  LastReferences last_references = LastReferences::kNoneFound;  // kAbandoned
  pid_t referrer = 0;                                           // kStuckThread
  ReachedBy reached_by = ReachedBy::kUnexplained;               // kReachable
  pid_t blocker = 0;                                            // kBlockerCanRun
  RootRef root;                                                 // kObjectInRoot, kNextToRoot
  ReachPath path;                                               // kPath, kPathNextTo
  // kReachable: its own stack could not be told apart from the memory around it (its thread
  // descriptor did not check out), so that memory counted as the program's.
  bool own_stack_unknown = false;
};

struct ReachabilityStats {
  size_t heap_block_count = 0;
  size_t heap_bytes = 0;     // of the blocks malloc's heap holds
  size_t scanned_bytes = 0;  // read: roots and marked blocks
  size_t rounds = 0;         // of the fixed point
  int attempts = 0;
  double seconds = 0;
};

struct Reachability {
  bool ok = false;
  ScanFailure failure;               // when !ok: why
  std::vector<ThreadReach> threads;  // parallel to the request's threads (when ok)
  ReachabilityStats stats;
};

Reachability ScanReachability(const ReachabilityRequest& request);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_REACHABILITY_H_
