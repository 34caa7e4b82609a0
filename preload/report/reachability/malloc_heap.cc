#include "preload/report/reachability/malloc_heap.h"

#include <algorithm>

namespace threadleak {
namespace {

constexpr uintptr_t kHeapMax = 64u << 20;  // HEAP_MAX_SIZE: 2 * DEFAULT_MMAP_THRESHOLD_MAX
constexpr uintptr_t kHeapInfoSize = 48;
constexpr uintptr_t kMallocStateSize = 2200;
constexpr uintptr_t kTopOffset = 96;  // malloc_state.top: after mutex, flags, have_fastchunks
                                      // (16 bytes) and 10 fastbin heads
constexpr uint64_t kPrevInUse = 1, kMmapped = 2, kFlags = 7;
constexpr uint64_t kMinChunk = 32;

uintptr_t AlignUp(uintptr_t value, uintptr_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

// Sequential reads of one region through a buffer: chunk headers are read by the million, a
// system call each would cost more than the scan itself.
class Window {
 public:
  Window(const TargetMemory& memory, uintptr_t region_end)
      : memory_(memory), region_end_(region_end) {}

  void ExtendTo(uintptr_t region_end) { region_end_ = region_end; }

  // The `count` words at `address` (8-aligned), or nullptr if they cannot be read.
  const uint64_t* Words(uintptr_t address, size_t count) {
    const uintptr_t end = address + count * 8;
    if (address < start_ || end > start_ + filled_) {
      start_ = address;
      size_t want = std::min<uintptr_t>(kBuffer * 8,
                                        region_end_ > address ? region_end_ - address : count * 8);
      want = std::max<size_t>(want, count * 8);
      filled_ = memory_.ReadPrefix(address, buffer_.begin(), want);
      if (end > start_ + filled_) return nullptr;
    }
    return buffer_.begin() + (address - start_) / 8;
  }

 private:
  static constexpr size_t kBuffer = 1 << 17;  // words: 1 MiB
  const TargetMemory& memory_;
  uintptr_t region_end_;
  MappedArray<uint64_t> buffer_{kBuffer};  // not malloc's: the heap being walked must not move
  uintptr_t start_ = 0;
  size_t filled_ = 0;
};

class Walker {
 public:
  Walker(const TargetMemory& memory, MallocHeap* out, size_t max_bytes)
      : memory_(memory), out_(out), max_bytes_(max_bytes) {
    arenas_.reserve(1024);  // grown before the walk, not during it
  }

  bool Fail(ScanFailure why) {
    if (!out_->failure.failed()) out_->failure = std::move(why);
    return false;
  }
  bool Fail(ScanFailure::Code code) { return Fail(ScanFailure{.code = code}); }

  bool AddBlock(uintptr_t start, uintptr_t end) {
    out_->block_bytes += end - start;
    if (out_->block_bytes > max_bytes_) {
      return Fail({.code = ScanFailure::Code::kHeapTooBig, .megabytes = max_bytes_ >> 20});
    }
    if (!out_->blocks.push_back({start, end})) return Fail(ScanFailure::Code::kTooManyBlocks);
    return true;
  }

  // The chunks of one arena heap, [from, end). `top`: the arena's top chunk, where the walk must
  // stop, or 0 when it is the chunk that reaches `end` (the main arena). `fenceposts`: a heap
  // that is not its arena's last, which ends with fenceposts instead of a top chunk.
  bool WalkArenaHeap(uintptr_t from, uintptr_t end, uintptr_t top, bool fenceposts,
                     ScanFailure::Heap heap) {
    Window window(memory_, end);
    using Problem = ScanFailure::HeapProblem;
    auto fail = [&](Problem problem, uintptr_t at) {
      return Fail({.code = ScanFailure::Code::kBadHeap,
                   .heap = heap,
                   .heap_start = from,
                   .problem = problem,
                   .address = at});
    };
    uintptr_t p = from;
    for (;;) {
      if (p % 16 != 0 || p + 16 > end) return fail(Problem::kUnevenEnd, p);
      const uint64_t* header = window.Words(p, 2);
      if (header == nullptr) return fail(Problem::kUnreadable, p);
      const uint64_t field = header[1];
      const uint64_t size = field & ~kFlags;
      if (top != 0 && p == top) {
        if (p + size != end) return fail(Problem::kTopNotAtEnd, p);
        out_->free_headers.push_back(p);
        return true;
      }
      if (fenceposts && size == 0) {
        if (field != kPrevInUse || end - p > 64) return fail(Problem::kZeroSizeChunk, p);
        return true;
      }
      if (fenceposts && size == 16) {  // the first of the two fenceposts
        p += 16;
        continue;
      }
      if (top == 0 && !fenceposts && (field & kMmapped) == 0 && size >= kMinChunk &&
          size % 16 == 0 && p + size > end) {
        // The main arena grew (sbrk) since the mappings were read — in-process, the report's own
        // allocations do that: the walk goes on to where [heap] ends now.
        uintptr_t now = HeapEndNow();
        if (now >= p + size) {
          end = now;
          window.ExtendTo(end);
          if (!out_->heaps.empty()) out_->heaps.front().end = end;
        }
      }
      if ((field & kMmapped) != 0 || size < kMinChunk || size % 16 != 0 || p + size > end) {
        return fail(Problem::kDamagedHeader, p);
      }
      if (p + size == end) {
        if (top == 0 && !fenceposts) {  // the main arena's top chunk
          out_->free_headers.push_back(p);
          return true;
        }
        return fail(Problem::kEndsBeforeTop, p);
      }
      const uint64_t* next = window.Words(p + size, 2);
      if (next == nullptr) return fail(Problem::kUnreadable, p + size);
      if ((next[1] & kPrevInUse) != 0) {
        if (!AddBlock(p + 16, p + size + 8)) return false;
      } else if (!out_->free_headers.push_back(p)) {
        return Fail(ScanFailure::Code::kTooManyFreeChunks);
      }
      p += size;
    }
  }

  // Where [heap] ends now, or 0.
  uintptr_t HeapEndNow() const { return MainHeap(ReadMappings(memory_.pid())).end; }

  // [heap], which the kernel may show as several adjacent mappings (a forked child's heap
  // grows in a mapping of its own next to the part it shares with its parent).
  static AddressRange MainHeap(const std::vector<Mapping>& mappings) {
    AddressRange heap;
    for (const Mapping& m : mappings) {
      if (m.path != "[heap]") continue;
      if (heap.end == 0) {
        heap = {m.start, m.end};
      } else if (m.start == heap.end) {
        heap.end = m.end;
      }
    }
    return heap;
  }

  bool WalkMainArena(const std::vector<Mapping>& mappings) {
    const AddressRange heap = MainHeap(mappings);
    if (heap.end == 0) return true;  // nothing allocated with brk
    out_->heaps.push_back(heap);
    return WalkArenaHeap(AlignUp(heap.start, 16), heap.end, 0, false, ScanFailure::Heap::kMain);
  }

  // An arena heap whose heap_info is at `at`, inside the anonymous range `range`: walked, and
  // its memory added to out_->heaps. False with no failure when `at` holds no heap_info.
  bool TryArenaHeap(uintptr_t at, const AddressRange& range, bool* found) {
    *found = false;
    uint64_t info[5];  // ar_ptr, prev, size, mprotect_size, pagesize
    if (!memory_.Read(at, info, sizeof info)) return true;
    const uint64_t arena = info[0], prev = info[1], size = info[2], mprotected = info[3];
    // A heap may have grown past `range` since the mappings were read (in-process, the
    // report's own allocations do that): its heap_info is what counts.
    if (arena == 0 || arena % 16 != 0 || size < kTargetPageSize || size % kTargetPageSize != 0 ||
        size > kHeapMax || mprotected < size || mprotected > kHeapMax ||
        info[4] != kTargetPageSize || prev % kHeapMax != 0 ||
        (prev == 0 && arena != at + kHeapInfoSize)) {
      return true;
    }
    *found = true;
    uintptr_t first = at + kHeapInfoSize;
    if (prev == 0) {
      // glibc places the first chunk so that its user pointer (chunk + 16) is 16-aligned.
      first = AlignUp(at + kHeapInfoSize + kMallocStateSize + 16, 16) - 16;
    }
    uint64_t top = 0;
    if (!memory_.Read(arena + kTopOffset, &top)) {
      return Fail(ScanFailure::Code::kArenaUnreadable);
    }
    const bool has_top = top >= at && top < at + size;
    if (std::find(arenas_.begin(), arenas_.end(), arena) == arenas_.end() &&
        arenas_.size() < arenas_.capacity()) {
      arenas_.push_back(arena);
    }
    out_->heaps.push_back({at, at + mprotected});
    return WalkArenaHeap(first, at + size, has_top ? top : 0, !has_top, ScanFailure::Heap::kArena);
  }

  // The mmapped chunks in `piece`; what is not one goes to `leftover`.
  bool WalkMmapped(const AddressRange& piece, std::vector<AddressRange>* leftover) {
    Window window(memory_, piece.end);
    uintptr_t unclaimed = piece.start;  // start of memory not yet accounted for
    for (uintptr_t x = piece.start; x + kTargetPageSize <= piece.end;) {
      const uint64_t* w = window.Words(x, kTargetPageSize / 8);
      if (w == nullptr) {
        x += kTargetPageSize;
        continue;
      }
      size_t k = 0;
      while (k < kTargetPageSize / 8 && w[k] == 0) ++k;
      uintptr_t chunk = 0, prev = 0, field = 0;
      if (k == 1) {  // prev_size 0, then the size: a chunk at the mapping's start
        chunk = x;
        field = w[1];
      } else if (k > 0 && k + 1 < kTargetPageSize / 8) {
        // An aligned allocation: prev_size, then the size.
        chunk = x + k * 8;
        prev = w[k];
        field = w[k + 1];
      }
      const uintptr_t size = field & ~kFlags;
      const uintptr_t mapped = chunk - prev;
      if (chunk == 0 || chunk % 16 != 0 || (field & kFlags) != kMmapped ||
          size < kTargetPageSize / 2 || mapped % kTargetPageSize != 0 || mapped < unclaimed ||
          (prev + size) % kTargetPageSize != 0 || mapped + prev + size > piece.end ||
          mapped + prev + size <= x) {
        x += kTargetPageSize;
        continue;
      }
      if (mapped > unclaimed) leftover->push_back({unclaimed, mapped});
      if (!AddBlock(chunk + 16, mapped + prev + size)) return false;
      out_->heaps.push_back({mapped, mapped + prev + size});
      unclaimed = x = mapped + prev + size;
    }
    if (unclaimed < piece.end) leftover->push_back({unclaimed, piece.end});
    return true;
  }

  const std::vector<uintptr_t>& arenas() const { return arenas_; }

 private:
  const TargetMemory& memory_;
  MallocHeap* out_;
  size_t max_bytes_;
  std::vector<uintptr_t> arenas_;  // the non-main arenas' malloc_states
};

// Chunks that are free though their neighbours say "in use": those in a thread's tcache or an
// arena's fastbins. Their stale contents would keep whatever they last pointed to alive.
// tcache_perthread_struct (glibc 2.36): uint16_t counts[64], then tcache_entry* entries[64], in
// a chunk of 0x290 bytes; an entry is a chunk's user pointer whose first word is the next entry,
// mangled as PROTECT_PTR (next ^ (address of the word >> 12)), and whose second word is the
// process's tcache key. Entry i holds chunks of 32 + 16 * i bytes. Fastbin i (malloc_state at
// offset 16, ten heads) holds chunk headers of 32 + 16 * i bytes, linked through the mangled
// word at chunk + 16. A list that does not check out in every step frees nothing.
class FreeLists {
 public:
  FreeLists(const TargetMemory& memory, MallocHeap* heap) : memory_(memory), heap_(heap) {}

  static constexpr int64_t kUnseen = -2;

  // The index of the block that starts at `start` with a chunk of `chunk_size`; kUnseen when
  // no block holds `start` at all; -1 when one does, but not like that.
  int64_t BlockAt(uintptr_t start, uint64_t chunk_size) const {
    const HeapBlock* begin = heap_->blocks.begin();
    const HeapBlock* end = heap_->blocks.end();
    const HeapBlock* it = std::upper_bound(
        begin, end, start, [](uintptr_t a, const HeapBlock& b) { return a < b.start; });
    if (it == begin || start >= std::prev(it)->end) return kUnseen;
    --it;
    if (it->start != start || it->end - it->start != chunk_size - 8) return -1;
    return it - begin;
  }

  // Follows one list from `first` (a user pointer, or a header when `headers`), adding the
  // blocks it holds to `out`. False if its first entry is not a block of its size: then this is
  // no such list. Past the first, a step that does not check out ends the list early: the
  // reporting thread itself may have freed and split chunks since the walk (in-process), and
  // chunks left out only keep more alive.
  bool Follow(uintptr_t first, uint64_t chunk_size, bool headers, size_t limit,
              std::vector<int64_t>* out) const {
    uintptr_t entry = headers ? first + 16 : first;
    for (size_t k = 0; entry != 0 && k < limit; ++k) {
      const int64_t block = entry % 16 == 0 ? BlockAt(entry, chunk_size) : -1;
      if (block < 0) return k > 0 || block == kUnseen;
      out->push_back(block);
      uint64_t stored = 0;
      if (!memory_.Read(entry, &stored)) return true;
      const uintptr_t next = stored ^ (entry >> 12);
      entry = next == 0 ? 0 : (headers ? next + 16 : next);
    }
    return true;
  }

  void FindTcaches(std::vector<int64_t>* freed) const {
    constexpr uint64_t kTcacheChunk = 0x290;
    for (size_t b = 0; b < heap_->blocks.size(); ++b) {
      const HeapBlock& block = heap_->blocks[b];
      if (block.end - block.start != kTcacheChunk - 8) continue;
      struct {
        uint16_t counts[64];
        uint64_t entries[64];
      } tcache;
      if (!memory_.Read(block.start, &tcache)) continue;
      std::vector<int64_t> found;
      bool valid = true;
      for (int i = 0; i < 64 && valid; ++i) {
        if (tcache.entries[i] == 0) continue;
        valid = tcache.counts[i] > 0 &&
                Follow(tcache.entries[i], 32 + 16 * i, false, tcache.counts[i], &found);
      }
      if (valid) freed->insert(freed->end(), found.begin(), found.end());
    }
  }

  // The arenas' malloc_states: each non-main arena's (ar_ptr of its heaps), and through their
  // `next` links the main arena's.
  void FindFastbins(const std::vector<uintptr_t>& arenas, std::vector<int64_t>* freed) const {
    constexpr uintptr_t kNextOffset = 2160;  // malloc_state.next
    std::vector<uintptr_t> all = arenas;
    for (uintptr_t arena : arenas) {
      uintptr_t next = 0;
      for (int hops = 0; hops < 1024 && memory_.Read(arena + kNextOffset, &next) && next != 0 &&
                         std::find(all.begin(), all.end(), next) == all.end();
           ++hops) {
        all.push_back(next);
        arena = next;
      }
    }
    for (uintptr_t arena : all) {
      uint64_t heads[10];
      if (!memory_.Read(arena + 16, &heads)) continue;
      std::vector<int64_t> found;
      bool valid = true;
      for (int i = 0; i < 10 && valid; ++i) {
        if (heads[i] != 0) valid = Follow(heads[i], 32 + 16 * i, true, 1 << 20, &found);
      }
      if (valid) freed->insert(freed->end(), found.begin(), found.end());
    }
  }

 private:
  const TargetMemory& memory_;
  MallocHeap* heap_;
};

std::vector<AddressRange> Subtract(const std::vector<AddressRange>& from,
                                   std::vector<AddressRange> holes) {
  std::sort(holes.begin(), holes.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  std::vector<AddressRange> out;
  for (const AddressRange& r : from) {
    uintptr_t at = r.start;
    for (const AddressRange& h : holes) {
      if (h.end <= at || h.start >= r.end) continue;
      if (h.start > at) out.push_back({at, h.start});
      at = std::max(at, h.end);
    }
    if (at < r.end) out.push_back({at, r.end});
  }
  return out;
}

}  // namespace

std::string ForeignAllocator(const std::vector<Mapping>& mappings) {
  // Sanitizer runtimes bring their own allocator too (and terabytes of shadow memory).
  static const char* const kAllocators[] = {"jemalloc",  "tcmalloc", "mimalloc",  "hoard",
                                            "tbbmalloc", "snmalloc", "rpmalloc",  "libasan",
                                            "libtsan",   "libmsan",  "libhwasan", "liblsan"};
  for (const Mapping& m : mappings) {
    const std::string base = m.path.substr(m.path.rfind('/') + 1);
    for (const char* name : kAllocators) {
      if (base.find(name) != std::string::npos) return base;
    }
  }
  return "";
}

MallocHeap WalkMallocHeap(const TargetMemory& memory, const std::vector<Mapping>& mappings,
                          const std::vector<AddressRange>& anonymous, size_t max_bytes) {
  MallocHeap heap;
  heap.heaps.reserve(4096);  // grown before the walk, not during it
  if (std::string other = ForeignAllocator(mappings); !other.empty()) {
    heap.failure = {.code = ScanFailure::Code::kForeignAllocator, .allocator = std::move(other)};
    return heap;
  }
  bool glibc = std::any_of(mappings.begin(), mappings.end(), [](const Mapping& m) {
    return m.path.size() >= 10 && m.path.compare(m.path.size() - 10, 10, "/libc.so.6") == 0;
  });
  if (!glibc) {
    heap.failure = {.code = ScanFailure::Code::kNoGlibc};
    return heap;
  }
  size_t span = 0;  // where chunks can be: [heap] and the anonymous memory given
  for (const Mapping& m : mappings) {
    if (m.path == "[heap]") span += m.end - m.start;
  }
  for (const AddressRange& r : anonymous) span += r.end - r.start;
  // At most one block per 32 bytes of memory that can hold chunks.
  if (!heap.blocks.Reserve(span / 32 + 1024) || !heap.free_headers.Reserve(span / 32 + 1024)) {
    heap.failure = {.code = ScanFailure::Code::kNoMemoryForBlockTable};
    return heap;
  }
  Walker walker(memory, &heap, max_bytes);
  if (!walker.WalkMainArena(mappings)) return heap;
  for (const AddressRange& range : anonymous) {
    for (uintptr_t at = AlignUp(range.start, kHeapMax); at + kTargetPageSize <= range.end;
         at += kHeapMax) {
      bool found = false;
      if (!walker.TryArenaHeap(at, range, &found)) return heap;
    }
  }
  std::vector<AddressRange> leftover;
  leftover.reserve(4096);
  for (const AddressRange& piece : Subtract(anonymous, heap.heaps)) {
    if (!walker.WalkMmapped(piece, &leftover)) return heap;
  }
  std::sort(heap.free_headers.begin(), heap.free_headers.end());
  std::sort(heap.blocks.begin(), heap.blocks.end(),
            [](const HeapBlock& a, const HeapBlock& b) { return a.start < b.start; });
  // Free chunks that look in use: out of the blocks, their headers into free_headers.
  FreeLists lists(memory, &heap);
  std::vector<int64_t> freed;
  lists.FindTcaches(&freed);
  lists.FindFastbins(walker.arenas(), &freed);
  if (!freed.empty()) {
    std::sort(freed.begin(), freed.end());
    freed.erase(std::unique(freed.begin(), freed.end()), freed.end());
    size_t kept = 0, f = 0;
    for (size_t i = 0; i < heap.blocks.size(); ++i) {
      if (f < freed.size() && freed[f] == static_cast<int64_t>(i)) {
        ++f;
        heap.block_bytes -= heap.blocks[i].end - heap.blocks[i].start;
        heap.free_headers.push_back(heap.blocks[i].start - 16);
        continue;
      }
      heap.blocks[kept++] = heap.blocks[i];
    }
    heap.blocks.resize(kept);
    std::sort(heap.free_headers.begin(), heap.free_headers.end());
  }
  for (size_t i = 1; i < heap.blocks.size(); ++i) {
    if (heap.blocks[i].start < heap.blocks[i - 1].end - 8) {
      heap.failure = {.code = ScanFailure::Code::kBlocksOverlap, .address = heap.blocks[i].start};
      return heap;
    }
  }
  heap.ok = true;
  return heap;
}

}  // namespace threadleak
