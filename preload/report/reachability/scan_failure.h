// Why a reachability scan (reachability.h), or the heap walk under it (malloc_heap.h), proved
// nothing: a code and the facts it names. The writers word it (render/scan_text.h), so a
// failure reads the same wherever it shows: in the reason of every verdict left unproven.
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_SCAN_FAILURE_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_SCAN_FAILURE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace threadleak {

struct ScanFailure {
  enum class Code : uint8_t {
    kNone,              // it did not fail
    kNotAsked,          // no scan: a dump or watchdog report without leak_scan=1
    kUnfinished,        // no attempt came to an end
    kMapsUnreadable,    // /proc/`pid`/maps
    kForeignAllocator,  // the process uses `allocator`, not glibc malloc
    kThreadMoved,       // thread `tid`, relied on, moved during the scan
    kThreadRunning,     // thread `tid` ran user code: its registers cannot be read
    kTooMuchMemory,     // more than `megabytes` (leak_scan_max_mb) to read
    kNoMemoryForBuffers,
    kNoMemoryForTables,
    // The heap walk.
    kHeapTooBig,  // more than `megabytes` of blocks (leak_scan_max_mb)
    kTooManyBlocks,
    kTooManyFreeChunks,
    kArenaUnreadable,  // an arena's malloc_state
    kNoGlibc,          // libc.so.6 is not loaded
    kNoMemoryForBlockTable,
    kBlocksOverlap,  // at `address`
    kBadHeap,        // `heap` at `heap_start` has `problem` (at `address`, 0: none named)
  };
  enum class Heap : uint8_t { kMain, kArena };
  enum class HeapProblem : uint8_t {
    kUnevenEnd,  // a chunk runs past the heap's end or is misaligned
    kUnreadable,
    kTopNotAtEnd,    // the arena's top chunk does not reach the heap's end
    kZeroSizeChunk,  // where a fencepost should end it
    kDamagedHeader,
    kEndsBeforeTop,  // the chunks end before the arena's top chunk
  };

  Code code = Code::kNone;
  pid_t pid = 0;               // kMapsUnreadable
  pid_t tid = 0;               // kThreadMoved, kThreadRunning
  size_t megabytes = 0;        // kTooMuchMemory, kHeapTooBig
  std::string allocator = {};  // kForeignAllocator: its file name ("libjemalloc.so.2")
  Heap heap = Heap::kMain;     // kBadHeap
  uintptr_t heap_start = 0;
  HeapProblem problem = HeapProblem::kUnevenEnd;
  uintptr_t address = 0;  // kBadHeap, kBlocksOverlap

  bool failed() const { return code != Code::kNone; }
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_SCAN_FAILURE_H_
