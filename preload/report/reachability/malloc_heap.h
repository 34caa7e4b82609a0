// glibc malloc's blocks in another process, found by walking malloc's own chunk headers — no
// hook on malloc, nothing the program can notice. Every step is checked (sizes, alignment, each
// walk ending exactly where the heap ends); a heap that does not check out, or a process that
// uses another allocator, gives no blocks and the reason (scan_failure.h), so callers can fall
// back.
//
// Layout facts relied on (glibc 2.36, x86-64; each is checked by tests/reachability's heap test
// against blocks the test allocated itself):
//   - a chunk is [prev_size, size | flags] then the user's bytes at chunk + 16; sizes are
//     multiples of 16, at least 32; flag 1: the previous chunk is in use, 2: mmapped, 4: not in
//     the main arena. A chunk is in use when the next chunk's flag 1 is set (tcache and fastbin
//     chunks count as in use: scanning them can only keep more alive).
//   - the main arena's chunks fill [heap] from its start; its last chunk (top) ends at its end.
//   - other arenas live in heaps at 64 MiB-aligned addresses starting with heap_info {ar_ptr,
//     prev, size, mprotect_size, pagesize}, 48 bytes; the first heap of an arena holds its
//     malloc_state (2200 bytes, `top` at offset 96) right after, then the chunks; a heap that is
//     not the arena's last ends with fenceposts (a 16-byte chunk, then a size-0 one).
//   - an mmapped chunk has flags exactly 2; its mapping starts prev_size bytes before it (an
//     aligned allocation) and prev_size + size is a whole number of pages. The kernel merges
//     neighbouring anonymous mappings, so one mapping may hold several chunks back to back.
// Allocates only in its result's mapped arrays while it walks (mapped_array.h).
#ifndef THREADLEAK_PRELOAD_REPORT_REACHABILITY_MALLOC_HEAP_H_
#define THREADLEAK_PRELOAD_REPORT_REACHABILITY_MALLOC_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preload/report/mapped_array.h"
#include "preload/report/reachability/scan_failure.h"
#include "preload/report/reachability/target_memory.h"

namespace threadleak {

struct AddressRange {
  uintptr_t start = 0;
  uintptr_t end = 0;
};

struct HeapBlock {
  uintptr_t start = 0;  // the user's first byte (chunk + 16)
  uintptr_t end = 0;    // one past its last usable byte
};

struct MallocHeap {
  bool ok = false;
  ScanFailure failure;            // why not, when !ok
  MappedArray<HeapBlock> blocks;  // in use, sorted by start, not overlapping
  // The headers of free chunks (and top chunks), sorted. An in-use block's last 8 bytes are the
  // next chunk's prev_size, so a pointer to a free chunk's header — what malloc's own bins
  // hold — falls inside the block before it; callers skip such values, or every bin would keep
  // a block alive.
  MappedArray<uintptr_t> free_headers;
  std::vector<AddressRange> heaps;  // memory the walk accounted for (arenas, mmapped chunks)
  size_t block_bytes = 0;           // the blocks' bytes together
};

// Walks the main arena ([heap]), every other arena's heaps and the mmapped chunks found in
// `anonymous` (writable anonymous memory that is neither a thread's stack nor the tool's; what
// the walk cannot account for there is left to the caller). Gives up, with the reason, past
// `max_bytes` of blocks.
MallocHeap WalkMallocHeap(const TargetMemory& memory, const std::vector<Mapping>& mappings,
                          const std::vector<AddressRange>& anonymous, size_t max_bytes);

// The name of an allocator other than glibc's that the process has loaded ("libjemalloc.so.2"),
// or "" when there is none.
std::string ForeignAllocator(const std::vector<Mapping>& mappings);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REACHABILITY_MALLOC_HEAP_H_
