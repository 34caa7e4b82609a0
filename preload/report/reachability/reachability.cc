#include "preload/report/reachability/reachability.h"

#include <elf.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "preload/capture/process_memory.h"
#include "preload/report/mapped_array.h"
#include "preload/report/reachability/malloc_heap.h"
#include "preload/report/reachability/process_layout.h"
#include "preload/report/reachability/process_shared.h"
#include "preload/report/reachability/target_memory.h"

namespace threadleak {
namespace {

// A word at most this far below an object kept on a stack (not in a malloc block, whose
// bounds are known) may point to the structure that holds it.
constexpr uintptr_t kObjectWindow = 1024;
constexpr size_t kReadBytes = 1 << 20;

std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

struct Root {
  uintptr_t start = 0;
  uintptr_t end = 0;
  RootKind kind = RootKind::kGlobal;
  pid_t tid = 0;       // kStack, kMonitor
  std::string module;  // kGlobal
  bool woken = false;  // kStack: a blocked thread the fixed point found can be woken
};

// Where a marked block was reached from: a block (>= 0) or a root (-1 - index), and the address
// of the word that pointed to it.
struct Link {
  int64_t from = 0;
  uintptr_t at = 0;
};
constexpr int64_t kNoLink = INT64_MIN;

// One thread of the report, as the scan sees it.
struct Place {
  TaskSyscall kernel;
  bool relied_blocked = false;  // blocked on something only another thread can release
  bool can_run = true;
  bool running_code = false;
  uintptr_t sp = 0;  // the lowest live stack address known, or 0
  // Its own stack, [stack_start, stack_end): the stack block its descriptor records (the main
  // thread's: [stack]). Empty when that cannot be known for a blocked thread: the mapping that
  // holds its stack then counts as the program's memory (a proof is lost, none is made up).
  uintptr_t stack_start = 0, stack_end = 0;
  uintptr_t live_from = 0;  // where its live frames begin: sp when it lies in its stack
  bool no_block = false;    // blocked, and its stack block could not be read
  // Where its object is: in a heap block (index), in root memory, or in a window on a stack.
  int64_t object_block = -1;
  bool object_in_root = false;
  RootRef object_root;  // when object_in_root: the root memory that holds it
  bool windowed = false;
  Link window_hit{kNoLink, 0};
  // Why it can run, when the fixed point found it can through its blocker.
  bool woken_by_blocker = false;
  ReachedBy woken_by = ReachedBy::kUnexplained;
  pid_t waking_blocker = 0;
  RunsBecause runs_because = RunsBecause::kNothingToSay;  // a waiting state, yet free to run
};

// The process (thread group) `tid` belongs to, from /proc/TID/status; `tid` itself if unknown.
pid_t ThreadGroupOf(pid_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
  FILE* status = fopen(path, "re");
  if (status == nullptr) return tid;
  char line[256];
  int group = 0;
  while (fgets(line, sizeof line, status) != nullptr) {
    if (sscanf(line, "Tgid: %d", &group) == 1) break;
  }
  fclose(status);
  return group > 0 ? group : tid;
}

bool Overlaps(uintptr_t a_start, uintptr_t a_end, uintptr_t b_start, uintptr_t b_end) {
  return a_start < b_end && b_start < a_end;
}

class Scan {
 public:
  Scan(const ReachabilityRequest& request, const TargetMemory& memory)
      : request_(request), memory_(memory) {}

  // One attempt. `moved`: a thread it relied on moved meanwhile (try again).
  Reachability Run(bool* moved);

 private:
  Reachability Fail(ScanFailure why) {
    Reachability r;
    r.failure = std::move(why);
    return r;
  }
  Reachability Fail(ScanFailure::Code code, pid_t tid = 0) {
    return Fail(ScanFailure{.code = code, .tid = tid});
  }
  bool IsTool(uintptr_t start, uintptr_t end) const;
  void Hit(uint64_t value, Link link);
  void ScanMemory(uintptr_t start, uintptr_t end, int64_t from);
  void Drain();
  const uint64_t* BlockWords(const HeapBlock& block);
  void AddRoot(Root root);
  int64_t BlockOf(uintptr_t address) const;
  RootRef RootOf(size_t root) const;
  ReachPath PathTo(int64_t block, uintptr_t object) const;
  bool StackRefers(uintptr_t start, uintptr_t end, size_t i) const;
  void WhyAbandoned(size_t i, ThreadReach* out) const;
  void WhyReachable(size_t i, ThreadReach* out) const;

  const ReachabilityRequest& request_;
  const TargetMemory& memory_;
  std::vector<Mapping> mappings_;
  std::vector<Place> places_;
  MallocHeap heap_;
  MappedArray<uint8_t> marked_;
  MappedArray<Link> parent_;
  MappedArray<uint32_t> queue_;
  size_t queue_head_ = 0;
  std::vector<Root> roots_;
  // Memory that is some thread's own stack (owner: its tid, -2 the reporting thread's), never
  // read as the program's ordinary memory; sorted by start once built.
  struct OwnedStack {
    uintptr_t start, end;
    pid_t owner;
  };
  std::vector<OwnedStack> owned_;
  std::vector<AddressRange> tool_;  // threadleak's own memory: never read
  pid_t StackOwnerOf(uintptr_t address) const;
  MappedArray<uint64_t> buffer_;
  MappedArray<uint64_t> window_;  // heap memory around the last block read
  uintptr_t window_start_ = 0;
  size_t window_bytes_ = 0;
  std::vector<AddressRange> heap_regions_;  // heap_.heaps, sorted
  uintptr_t blocks_low_ = 0, blocks_high_ = 0;
  uintptr_t windows_low_ = UINTPTR_MAX, windows_high_ = 0;
  // (object, thread) for the threads whose object is found by its window, sorted by object.
  std::vector<std::pair<uintptr_t, size_t>> windowed_;
  size_t scanned_bytes_ = 0;
};

pid_t Scan::StackOwnerOf(uintptr_t address) const {
  // owned_ is sorted by start; the stacks rarely overlap, and then the scan below settles it.
  auto it = std::upper_bound(owned_.begin(), owned_.end(), address,
                             [](uintptr_t a, const OwnedStack& o) { return a < o.start; });
  if (it != owned_.begin() && address < std::prev(it)->end) return std::prev(it)->owner;
  for (const OwnedStack& o : owned_) {
    if (address >= o.start && address < o.end) return o.owner;
  }
  return 0;
}

// Ranges sorted by start and merged where they overlap, for Subtract.
std::vector<AddressRange> Holes(std::vector<AddressRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  std::vector<AddressRange> out;
  for (const AddressRange& r : ranges) {
    if (r.end <= r.start) continue;
    if (!out.empty() && r.start <= out.back().end) {
      out.back().end = std::max(out.back().end, r.end);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// [start, end) less the `holes` (from Holes: sorted, not overlapping), appended to `out`. Costs
// the log of the holes plus those it meets: 10,000 threads' stacks are 10,000 holes, met by
// 20,000 mappings.
void Subtract(uintptr_t start, uintptr_t end, const std::vector<AddressRange>& holes,
              std::vector<AddressRange>* out) {
  auto it = std::upper_bound(holes.begin(), holes.end(), start,
                             [](uintptr_t a, const AddressRange& h) { return a < h.end; });
  uintptr_t at = start;
  for (; it != holes.end() && it->start < end; ++it) {
    if (it->start > at) out->push_back({at, it->start});
    at = std::max(at, it->end);
  }
  if (at < end) out->push_back({at, end});
}

bool Scan::IsTool(uintptr_t start, uintptr_t end) const {
  for (const AddressRange& t : tool_) {
    if (Overlaps(start, end, t.start, t.end)) return true;
  }
  return false;
}

int64_t Scan::BlockOf(uintptr_t address) const {
  if (address < blocks_low_ || address >= blocks_high_) return -1;
  const HeapBlock* begin = heap_.blocks.begin();
  const HeapBlock* end = heap_.blocks.end();
  const HeapBlock* it = std::upper_bound(
      begin, end, address, [](uintptr_t a, const HeapBlock& b) { return a < b.start; });
  if (it == begin) return -1;
  --it;
  return address < it->end ? it - begin : -1;
}

void Scan::Hit(uint64_t value, Link link) {
  if (value >= blocks_low_ && value < blocks_high_) {
    int64_t b = BlockOf(value);
    // A free chunk's header, as malloc's bins point to it: not a reference to the block before.
    if (b >= 0 && value + 8 >= heap_.blocks[b].end &&
        std::binary_search(heap_.free_headers.begin(), heap_.free_headers.end(), value)) {
      b = -1;
    }
    if (b >= 0 && !marked_[b]) {
      marked_[b] = 1;
      parent_[b] = link;
      queue_.push_back(static_cast<uint32_t>(b));
    }
  }
  if (value >= windows_low_ && value <= windows_high_) {
    // The objects with value in [object - kObjectWindow, object + 8]: windowed_ is sorted by
    // object, so only those are visited however many threads wait on stack objects.
    auto it = std::lower_bound(
        windowed_.begin(), windowed_.end(), value - 8,
        [](const std::pair<uintptr_t, size_t>& w, uintptr_t v) { return w.first < v; });
    for (; it != windowed_.end() && it->first <= value + kObjectWindow; ++it) {
      Place& p = places_[it->second];
      if (p.window_hit.from == kNoLink) p.window_hit = link;
    }
  }
}

void Scan::ScanMemory(uintptr_t start, uintptr_t end, int64_t from) {
  start = (start + 7) & ~uintptr_t{7};
  for (uintptr_t at = start; at < end;) {
    const size_t want = std::min<uintptr_t>(end - at, kReadBytes);
    size_t got = memory_.ReadPrefix(at, buffer_.begin(), want);
    scanned_bytes_ += got;
    for (size_t k = 0; k < got / 8; ++k) Hit(buffer_[k], Link{from, at + k * 8});
    // An unreadable page (a hole in a region, a guard) is skipped, not the rest.
    at += got == want ? want : (got / kTargetPageSize + 1) * kTargetPageSize;
    if (got != want) at &= ~(kTargetPageSize - 1);
  }
}

// The block's words, from a window of up to kReadBytes read around it: marking follows
// pointers to neighbouring blocks more often than not (lists allocated in a row, a vector's
// elements), and process_vm_readv costs per call far more than per byte.
const uint64_t* Scan::BlockWords(const HeapBlock& block) {
  if (block.start >= window_start_ && block.end <= window_start_ + window_bytes_) {
    return window_.begin() + (block.start - window_start_) / 8;
  }
  // The heap region that holds it bounds the window: reads stop at the first unmapped page.
  auto it = std::upper_bound(heap_regions_.begin(), heap_regions_.end(), block.start,
                             [](uintptr_t a, const AddressRange& r) { return a < r.start; });
  uintptr_t low = block.start, high = block.end;
  if (it != heap_regions_.begin() && block.start < std::prev(it)->end) {
    low = std::prev(it)->start;
    high = std::prev(it)->end;
  }
  // Toward where the marking went last: a list allocated in a row is followed downward.
  const uintptr_t below =
      block.start < window_start_ ? kReadBytes - (block.end - block.start) : kReadBytes / 8;
  uintptr_t start = block.start - std::min<uintptr_t>(block.start - low, below);
  start &= ~uintptr_t{7};
  const size_t want = std::min<uintptr_t>(high - start, kReadBytes);
  window_start_ = start;
  window_bytes_ = memory_.ReadPrefix(start, window_.begin(), want);
  scanned_bytes_ += window_bytes_;
  if (block.start >= window_start_ && block.end <= window_start_ + window_bytes_) {
    return window_.begin() + (block.start - window_start_) / 8;
  }
  window_bytes_ = memory_.ReadPrefix(block.start, window_.begin(), block.end - block.start);
  window_start_ = block.start;
  return window_bytes_ == block.end - block.start ? window_.begin() : nullptr;
}

void Scan::Drain() {
  while (queue_head_ < queue_.size()) {
    const uint32_t index = queue_[queue_head_++];
    const HeapBlock& b = heap_.blocks[index];
    if (b.end - b.start > kReadBytes / 2) {  // a big block: read on its own, in pieces
      ScanMemory(b.start, b.end, index);
      continue;
    }
    const uint64_t* words = BlockWords(b);
    if (words == nullptr) continue;  // freed and unmapped meanwhile
    // Hit() may append to the queue but never touches the window.
    const size_t count = (b.end - b.start) / 8;
    for (size_t w = 0; w < count; ++w) Hit(words[w], Link{index, b.start + w * 8});
  }
}

void Scan::AddRoot(Root root) {
  if (root.end <= root.start) return;
  roots_.push_back(std::move(root));
  const Root& r = roots_.back();
  ScanMemory(r.start, r.end, -1 - static_cast<int64_t>(roots_.size() - 1));
}

Reachability Scan::Run(bool* moved) {
  *moved = false;
  const pid_t pid = request_.pid;
  mappings_ = ReadMappings(pid);
  if (mappings_.empty()) return Fail({.code = ScanFailure::Code::kMapsUnreadable, .pid = pid});
  if (std::string other = ForeignAllocator(mappings_); !other.empty()) {
    return Fail({.code = ScanFailure::Code::kForeignAllocator, .allocator = std::move(other)});
  }
  const std::vector<pid_t> tasks = ListTaskIds(pid);
  auto alive = [&](pid_t tid) { return std::binary_search(tasks.begin(), tasks.end(), tid); };
  const size_t n = request_.count;
  std::unordered_map<int32_t, int> index_of;  // tid -> place in the report
  for (size_t i = 0; i < n; ++i) index_of.emplace(request_.threads[i].tid, static_cast<int>(i));
  places_.assign(n, Place{});

  // Each thread's own stack and who can run. A thread's stack is its stack block (from its
  // descriptor), not the mapping that holds its stack pointer: the kernel merges the program's
  // anonymous mappings into a stack's mapping when they are adjacent with the same protections.
  const int main_stack = [&] {
    for (size_t m = 0; m < mappings_.size(); ++m) {
      if (mappings_[m].path == "[stack]") return static_cast<int>(m);  // never merged
    }
    return -1;
  }();
  // The main thread's tid is the process's id; `pid` may name another thread of it (the one the
  // report is read through).
  const pid_t main_tid = ThreadGroupOf(pid);
  auto block_of = [&](pid_t tid, uintptr_t handle) -> AddressRange {
    if (tid == main_tid) {
      return main_stack >= 0 ? AddressRange{mappings_[main_stack].start, mappings_[main_stack].end}
                             : AddressRange{};
    }
    return ReadStackBlock(memory_, handle, tid);
  };
  size_t blocks_read = 0, blocks_failed = 0;  // of threads with a descriptor to read
  for (size_t i = 0; i < n; ++i) {
    const tl_thread& t = request_.threads[i];
    Place& p = places_[i];
    p.kernel = ReadTaskSyscall(pid, t.tid);
    if (t.state == TL_STATE_FINISHED || !alive(t.tid)) {
      p.can_run = false;
      continue;
    }
    const bool in_slot = t.unwind.kind == TL_UNWIND_HOOK;
    uint64_t word = 0;
    const bool still_waiting =
        !in_slot || (memory_.Read(t.unwind.slot, &word) && word == t.unwind.word);
    // Another process may wake a waiter on an object shared with it: it counts as able to run.
    const bool shared = WaitsOnSharedObject(t);
    p.relied_blocked = tl_state_waits_for_others(t.state) && still_waiting &&
                       InUntimedFutexWait(p.kernel) && !shared;
    if (shared && tl_state_waits_for_others(t.state)) {
      p.runs_because = RunsBecause::kSharedObject;
    } else if (tl_state_waits_for_others(t.state) && !p.relied_blocked) {
      const bool timed = p.kernel.known && !p.kernel.running &&
                         (p.kernel.number == SYS_futex || p.kernel.number == SYS_futex_waitv);
      p.runs_because = !still_waiting ? RunsBecause::kLeftTheWait
                       : timed        ? RunsBecause::kTimedWait
                                      : RunsBecause::kNotAsleep;
    }
    p.can_run = !p.relied_blocked;
    p.running_code = p.kernel.known && p.kernel.running;
    if (p.kernel.known && !p.kernel.running) p.sp = p.kernel.sp;
    if (p.running_code) p.sp = 0;
    const AddressRange block = block_of(t.tid, t.handle);
    if (t.tid != main_tid && t.handle != 0) ++(block.end != 0 ? blocks_read : blocks_failed);
    if (block.end != 0) {
      p.stack_start = block.start;
      p.stack_end = block.end;
      // Below sp is dead. A stack pointer outside the block (a coroutine's stack, an alternate
      // signal stack) leaves all of the block live; the memory it points into is the program's.
      p.live_from = p.sp >= block.start && p.sp < block.end ? p.sp : block.start;
    } else if (p.can_run) {
      // No block known (a thread the shim did not see start): from its stack pointer to the end
      // of the mapping that holds it, all of which is read as a root.
      const uintptr_t anchor = p.sp != 0 ? p.sp : in_slot ? t.unwind.frame : t.unwind.sp;
      const int m = anchor != 0 ? FindMapping(mappings_, anchor) : -1;
      if (m >= 0) {
        p.stack_start = p.sp != 0 ? std::max(p.sp, mappings_[m].start) : mappings_[m].start;
        p.stack_end = mappings_[m].end;
        p.live_from = p.stack_start;
      }
    }
    p.no_block = block.end == 0 && !p.can_run;
    if (p.stack_end != 0) owned_.push_back({p.stack_start, p.stack_end, t.tid});
  }
  for (size_t i = 0; i < n; ++i) {
    if (places_[i].running_code) {  // often for a moment (a sleeper between two sleeps): retry
      *moved = true;
      return Fail(ScanFailure::Code::kThreadRunning, request_.threads[i].tid);
    }
  }

  // Tasks the report does not list: the reporting thread, threadleak's own, and the rest (which
  // count as able to run: from their stack pointer to their mapping's end is a root).
  std::vector<std::pair<pid_t, AddressRange>> others;
  for (pid_t tid : tasks) {
    if (index_of.count(tid) != 0 || tid == request_.reporting_tid) continue;
    // threadleak's thread: never a root; its stack block is in the request's tool memory.
    if (TaskName(pid, tid).rfind("threadleak", 0) == 0) continue;
    TaskSyscall kernel = ReadTaskSyscall(pid, tid);
    if (kernel.known && kernel.running) {
      *moved = true;
      return Fail(ScanFailure::Code::kThreadRunning, tid);
    }
    int m = kernel.known ? FindMapping(mappings_, kernel.sp) : -1;
    if (tid == main_tid && main_stack >= 0) m = main_stack;  // the whole [stack]: it may run
    if (m < 0) continue;
    const AddressRange live{
        tid == main_tid ? mappings_[m].start : std::max(kernel.sp, mappings_[m].start),
        mappings_[m].end};
    owned_.push_back({live.start, live.end, tid});
    others.push_back({tid, live});
  }
  // The reporting thread: its stack block is its own (the report's frames are the tool's); what
  // of it is the program's is added as a root below.
  AddressRange reporting_block;
  if (request_.reporting_tid > 0) {
    reporting_block = block_of(request_.reporting_tid, request_.reporting_handle);
    if (reporting_block.end == 0 && request_.reporting_stack_from != 0) {
      // Not known: from the report's outermost frame to the end of its mapping, read whole.
      const int m = FindMapping(mappings_, request_.reporting_stack_from);
      if (m >= 0) reporting_block = {request_.reporting_stack_from, mappings_[m].end};
    }
    if (reporting_block.end != 0) {
      owned_.push_back({reporting_block.start, reporting_block.end, -2});
    }
  }
  std::sort(owned_.begin(), owned_.end(),
            [](const OwnedStack& a, const OwnedStack& b) { return a.start < b.start; });

  // Memory: the tool's, stacks, global data, and anonymous memory for the heap walk.
  std::vector<Root> globals;
  std::vector<AddressRange> anonymous;
  // threadleak's own modules. (libunwind's data, which the shim uses for creation stacks, is
  // among the tool ranges when the shim knows it is its alone.)
  auto tool_module = [](const std::string& path) {
    return Basename(path).rfind("libthreadleak", 0) == 0;
  };
  const std::vector<ModuleData> modules = ReadModuleData(memory_, mappings_);
  tool_.clear();
  for (size_t k = 0; k < request_.tool_memory_count; ++k) {
    tool_.push_back({request_.tool_memory[k].start, request_.tool_memory[k].end});
  }
  // A library loaded after the shim that needs libunwind shares the shim's copy: its data is the
  // program's then, whatever the shim said.
  if (!ModuleNeeding(memory_, mappings_, "libunwind", "libthreadleak").empty()) {
    for (const ModuleData& d : modules) {
      if (Basename(d.path).rfind("libunwind", 0) != 0) continue;
      std::erase_if(tool_,
                    [&](const AddressRange& t) { return t.start >= d.start && t.end <= d.end; });
    }
  }
  // What no mapping's reading may include: threadleak's memory, the modules' data (read as
  // globals), the threads' own stacks.
  std::vector<AddressRange> not_ordinary = tool_;
  for (const ModuleData& d : modules) {
    not_ordinary.push_back({d.start, d.end});
    if (tool_module(d.path) || IsTool(d.start, d.end)) continue;
    // Only what is mapped writable now (RELRO turned part of it read-only).
    for (const Mapping& map : mappings_) {
      if (!map.writable || !map.readable || map.end <= d.start || map.start >= d.end) continue;
      globals.push_back({std::max(map.start, d.start), std::min(map.end, d.end), RootKind::kGlobal,
                         0, d.path, false});
    }
  }
  for (const OwnedStack& o : owned_) not_ordinary.push_back({o.start, o.end});
  not_ordinary = Holes(std::move(not_ordinary));
  for (size_t m = 0; m < mappings_.size(); ++m) {
    const Mapping& map = mappings_[m];
    if (!map.readable || !map.writable || map.path == "[heap]") continue;
    if (ReadingThroughProcMem() && DeviceMapping(map.path)) continue;
    std::vector<AddressRange> rest;
    Subtract(map.start, map.end, not_ordinary, &rest);
    for (const AddressRange& r : rest) {
      if (!map.anonymous()) {
        if (!tool_module(map.path)) {  // a file mapped writable: the program's data
          globals.push_back({r.start, r.end, RootKind::kGlobal, 0, map.path, false});
        }
      } else if (map.path.empty() || map.path.rfind("[anon", 0) == 0) {
        anonymous.push_back(r);  // malloc's arenas, or the program's own
      }
    }
  }

  // Everything the scan may read, against leak_scan_max_mb: reserved anonymous memory (a
  // runtime's arenas, a sanitizer's shadow) can run to terabytes.
  size_t total = 0;
  for (const Root& g : globals) total += g.end - g.start;
  for (const AddressRange& r : anonymous) total += r.end - r.start;
  if (total > request_.max_bytes) {
    return Fail({.code = ScanFailure::Code::kTooMuchMemory, .megabytes = request_.max_bytes >> 20});
  }

  // A heap that changed under the walk (a thread that freed or allocated: the one making the
  // report, in-process) is walked again.
  for (int walk = 0; walk < 3; ++walk) {
    heap_ = WalkMallocHeap(memory_, mappings_, anonymous, request_.max_bytes);
    if (heap_.ok || heap_.failure.problem != ScanFailure::HeapProblem::kDamagedHeader ||
        heap_.failure.code != ScanFailure::Code::kBadHeap) {
      break;
    }
  }
  if (!heap_.ok) return Fail(heap_.failure);
  if (!heap_.blocks.empty()) {
    blocks_low_ = heap_.blocks[0].start;
    blocks_high_ = heap_.blocks[heap_.blocks.size() - 1].end;
  }

  // What the heap walk left of anonymous memory: the stacks of threads that ended (kept by
  // glibc for reuse; their descriptor names no live thread) are nobody's; the rest counts as a
  // root. Trusted only once the descriptors of live threads read right: a stack taken for a
  // dead thread's is never read.
  const bool trust_tcb = blocks_read > 0 && blocks_failed == 0;
  std::vector<AddressRange> unclaimed;
  {
    std::vector<AddressRange> sorted_heaps = heap_.heaps;
    std::sort(sorted_heaps.begin(), sorted_heaps.end(),
              [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
    for (const AddressRange& r : anonymous) {
      uintptr_t at = r.start;
      for (const AddressRange& h : sorted_heaps) {
        if (h.end <= at || h.start >= r.end) continue;
        if (h.start > at) unclaimed.push_back({at, h.start});
        at = std::max(at, h.end);
      }
      if (at < r.end) unclaimed.push_back({at, r.end});
    }
  }
  for (const AddressRange& r : unclaimed) {
    int m = FindMapping(mappings_, r.start);
    if (trust_tcb && m > 0 && r.end == mappings_[m].end && !mappings_[m - 1].readable &&
        mappings_[m - 1].end == mappings_[m].start) {
      // Only the block its descriptor records is the dead thread's: the kernel may have merged
      // the program's memory into the same mapping.
      const uintptr_t tcb = FindTcb(memory_, r.start, r.end);
      int32_t tid = 0;
      uint64_t block[2] = {};
      if (tcb != 0 && memory_.Read(tcb + kTcbTidOffset, &tid) && (tid <= 0 || !alive(tid)) &&
          memory_.Read(tcb + kTcbStackBlockOffset, block, sizeof block) &&
          block[0] == mappings_[m - 1].start && tcb >= block[0] && tcb < block[0] + block[1]) {
        std::vector<AddressRange> rest;
        Subtract(r.start, r.end, {{block[0], block[0] + block[1]}}, &rest);  // one hole
        for (const AddressRange& piece : rest) {
          globals.push_back({piece.start, piece.end, RootKind::kUnknown, 0, "", false});
        }
        continue;  // a stack glibc keeps for its next thread
      }
    }
    globals.push_back({r.start, r.end, RootKind::kUnknown, 0, "", false});
  }

  // Where each blocked thread's object lies.
  auto stack_root_of = [&](size_t i) -> AddressRange {
    const Place& p = places_[i];
    return {p.live_from, p.stack_end};
  };
  for (size_t i = 0; i < n; ++i) {
    Place& p = places_[i];
    if (!p.relied_blocked) continue;
    const uintptr_t object = request_.threads[i].object;
    p.object_block = BlockOf(object);
    if (p.object_block >= 0) continue;
    for (const Root& g : globals) {
      if (object >= g.start && object < g.end) {
        p.object_in_root = true;
        p.object_root = {g.kind, g.start, g.tid, g.module, g.woken};
      }
    }
    if (!p.object_in_root) {
      p.windowed = true;
      windowed_.push_back({object, i});
      windows_low_ = std::min(windows_low_, object - kObjectWindow);
      windows_high_ = std::max(windows_high_, object + 8);
    }
  }

  std::sort(windowed_.begin(), windowed_.end());
  // Mark from the roots, then the fixed point: threads that can be woken become roots too.
  if (!buffer_.Reserve(kReadBytes / 8) || !window_.Reserve(kReadBytes / 8)) {
    return Fail(ScanFailure::Code::kNoMemoryForBuffers);
  }
  heap_regions_ = heap_.heaps;
  std::sort(heap_regions_.begin(), heap_regions_.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  buffer_.resize(kReadBytes / 8);
  const size_t blocks = heap_.blocks.size();
  if (!marked_.Reserve(blocks) || !parent_.Reserve(blocks) || !queue_.Reserve(blocks)) {
    return Fail(ScanFailure::Code::kNoMemoryForTables);
  }
  marked_.resize(blocks);
  parent_.resize(blocks);
  for (Root& g : globals) AddRoot(std::move(g));
  for (const auto& [tid, live] : others) {
    AddRoot({live.start, live.end, RootKind::kStack, tid, "", false});
  }
  if (reporting_block.end != 0 && request_.reporting_role != ReportingRole::kTool &&
      request_.reporting_role != ReportingRole::kNone) {
    uintptr_t from = request_.reporting_stack_from;
    if (request_.reporting_role == ReportingRole::kExiting) {
      // Only its thread-local storage lives on (destructors of thread_local objects run in
      // exit): the static TLS below its descriptor. The main thread's lies elsewhere (counted
      // as the program's anonymous memory).
      const uintptr_t tcb = request_.reporting_tid == main_tid ? 0 : request_.reporting_handle;
      from = tcb < reporting_block.start || tcb >= reporting_block.end
                 ? reporting_block.end
                 : std::max(from, tcb > kTcbSearch ? tcb - kTcbSearch : 0);
    }
    AddRoot({std::max(from, reporting_block.start), reporting_block.end, RootKind::kMonitor,
             request_.reporting_tid, "", false});
  }
  for (size_t i = 0; i < n; ++i) {
    if (!places_[i].can_run) continue;
    AddressRange r = stack_root_of(i);
    AddRoot({r.start, r.end, RootKind::kStack, request_.threads[i].tid, "", false});
  }
  size_t rounds = 0;
  auto find_index = [&](int32_t tid) -> int {
    auto it = index_of.find(tid);
    return it == index_of.end() ? -1 : it->second;
  };
  for (bool changed = true; changed;) {
    ++rounds;
    Drain();
    changed = false;
    for (size_t i = 0; i < n; ++i) {
      Place& p = places_[i];
      if (p.can_run || !p.relied_blocked) continue;
      const tl_thread& t = request_.threads[i];
      // A lock with a confirmed owner, or a join of a known thread, ends only when that thread
      // runs: whoever else reaches the object cannot release it.
      int32_t blocker = t.blocker_tid == t.blocker_tid_second_read ? t.blocker_tid : 0;
      const bool owned =
          blocker != 0 && blocker != t.tid && !t.blocker_exited &&
          (t.state == TL_STATE_MUTEX || t.state == TL_STATE_RWLOCK || t.state == TL_STATE_JOIN);
      bool reached = false;
      if (owned) {
        int b = find_index(blocker);
        if ((b >= 0 && places_[b].can_run) || (b < 0 && alive(blocker))) {
          reached = true;
          p.woken_by_blocker = true;
          p.woken_by = ReachedBy::kBlockerCanRun;
          p.waking_blocker = blocker;
        }
      } else {
        reached = p.object_in_root || (p.object_block >= 0 && marked_[p.object_block]) ||
                  p.window_hit.from != kNoLink;
      }
      if (!reached && !owned && t.state == TL_STATE_JOIN) {
        // The joined thread is the one whose stack holds its descriptor (the object).
        pid_t owner = StackOwnerOf(t.object);
        int b = owner > 0 ? find_index(owner) : -1;
        if (owner == 0 || (b >= 0 && places_[b].can_run) || (b < 0 && owner > 0)) {
          reached = true;
          p.woken_by_blocker = true;
          p.woken_by = ReachedBy::kJoinedThreadCanEnd;
        }
      }
      if (!reached) continue;
      p.can_run = true;
      changed = true;
      AddressRange r = stack_root_of(i);
      AddRoot({r.start, r.end, RootKind::kStack, t.tid, "", true});
    }
  }

  // The threads relied on must still be where the scan saw them.
  for (size_t i = 0; i < n; ++i) {
    const Place& p = places_[i];
    if (p.can_run || !p.relied_blocked) continue;
    const tl_thread& t = request_.threads[i];
    uint64_t word = 0;
    TaskSyscall now = ReadTaskSyscall(pid, t.tid);
    bool same = now.known && !now.running && now.number == p.kernel.number && now.sp == p.kernel.sp;
    if (t.unwind.kind == TL_UNWIND_HOOK) {
      same = same && memory_.Read(t.unwind.slot, &word) && word == t.unwind.word;
    }
    if (!same) {
      *moved = true;
      return Fail(ScanFailure::Code::kThreadMoved, t.tid);
    }
  }

  Reachability result;
  result.ok = true;
  result.threads.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Place& p = places_[i];
    ThreadReach& out = result.threads[i];
    if (!p.relied_blocked) {
      out.runs_because = p.runs_because;
      continue;
    }
    if (!p.can_run) {
      out.fate = ThreadFate::kAbandoned;
      WhyAbandoned(i, &out);
    } else {
      out.fate = ThreadFate::kReachable;
      WhyReachable(i, &out);
    }
  }
  result.stats.heap_block_count = heap_.blocks.size();
  result.stats.heap_bytes = heap_.block_bytes;
  result.stats.scanned_bytes = scanned_bytes_;
  result.stats.rounds = rounds;
  return result;
}

RootRef Scan::RootOf(size_t index) const {
  const Root& root = roots_[index];
  return {root.kind, root.start, root.tid, root.module, root.woken};
}

ReachPath Scan::PathTo(int64_t block, uintptr_t object) const {
  std::vector<HeapHop> chain;  // object end first
  uintptr_t into = object;
  int64_t b = block;
  ReachPath path;
  while (b >= 0 && chain.size() < kMaxPathHops) {
    chain.push_back({heap_.blocks[b].start, into - heap_.blocks[b].start});
    const Link& link = parent_[b];
    into = link.at;
    if (link.from < 0) {
      path.from_root = true;
      path.root = RootOf(static_cast<size_t>(-1 - link.from));
      path.root_word = into;
      if (path.root.kind == RootKind::kGlobal && request_.name_global) {
        path.global = request_.name_global(into);
      }
      break;
    }
    b = link.from;
  }
  path.length = chain.size();
  // Root end first, the middle of a long path left out.
  for (size_t k = chain.size(); k-- > 0;) {
    const size_t from_root = chain.size() - 1 - k;
    if (chain.size() > 2 * kPathEnds && from_root >= kPathEnds && k >= kPathEnds) continue;
    path.hops.push_back(chain[k]);
  }
  return path;
}

bool Scan::StackRefers(uintptr_t start, uintptr_t end, size_t i) const {
  const Place& p = places_[i];
  const uintptr_t object = request_.threads[i].object;
  uintptr_t low = object - kObjectWindow, high = object + 8;
  if (p.object_block >= 0) {
    low = heap_.blocks[p.object_block].start;
    high = heap_.blocks[p.object_block].end - 1;
  }
  std::vector<uint64_t> words(kReadBytes / 8);
  for (uintptr_t at = start & ~uintptr_t{7}; at < end;) {
    size_t got = memory_.ReadPrefix(at, words.data(), std::min<uintptr_t>(end - at, kReadBytes));
    for (size_t k = 0; k < got / 8; ++k) {
      if (words[k] >= low && words[k] <= high) return true;
    }
    if (got == 0) break;
    at += got;
  }
  return false;
}

void Scan::WhyAbandoned(size_t i, ThreadReach* out) const {
  const Place& p = places_[i];
  if (p.stack_end != 0 && StackRefers(p.live_from, p.stack_end, i)) {
    out->last_references = LastReferences::kOwnStack;
    return;
  }
  // The other stuck threads' stacks, a bounded number of them: with thousands of abandoned
  // threads, reading every stack for every one would cost the square.
  constexpr size_t kOtherStacks = 32;
  for (size_t k = 0, read = 0; k < places_.size() && read < kOtherStacks; ++k) {
    const Place& other = places_[k];
    if (k == i || other.can_run || other.stack_end == 0) continue;
    ++read;
    if (StackRefers(other.live_from, other.stack_end, i)) {
      out->last_references = LastReferences::kStuckThread;
      out->referrer = request_.threads[k].tid;
      return;
    }
  }
  out->last_references = LastReferences::kNoneFound;
}

void Scan::WhyReachable(size_t i, ThreadReach* out) const {
  const Place& p = places_[i];
  out->own_stack_unknown = p.no_block;
  if (p.woken_by_blocker) {
    out->reached_by = p.woken_by;
    out->blocker = p.waking_blocker;
  } else if (p.object_in_root) {
    out->reached_by = ReachedBy::kObjectInRoot;
    out->root = p.object_root;
  } else if (p.object_block >= 0 && marked_[p.object_block]) {
    out->reached_by = ReachedBy::kPath;
    out->path = PathTo(p.object_block, request_.threads[i].object);
  } else if (p.window_hit.from != kNoLink && p.window_hit.from < 0) {
    out->reached_by = ReachedBy::kNextToRoot;
    out->root = RootOf(static_cast<size_t>(-1 - p.window_hit.from));
  } else if (p.window_hit.from != kNoLink) {
    out->reached_by = ReachedBy::kPathNextTo;
    out->path = PathTo(p.window_hit.from, p.window_hit.at);
  } else {
    out->reached_by = ReachedBy::kUnexplained;
  }
}

}  // namespace

Reachability ScanReachability(const ReachabilityRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  TargetMemory memory(request.pid);
  Reachability result;
  int attempt = 0;
  for (; attempt < std::max(1, request.attempts); ++attempt) {
    if (attempt > 0) {  // 1, 4, 16 ms...: long enough for a thread between two waits
      timespec pause = {0, 1'000'000L << (2 * std::min(attempt - 1, 4))};
      nanosleep(&pause, nullptr);
    }
    bool moved = false;
    Scan scan(request, memory);
    result = scan.Run(&moved);
    if (!moved) break;
  }
  result.stats.attempts = std::min(attempt + 1, std::max(1, request.attempts));
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok && !result.failure.failed()) result.failure.code = ScanFailure::Code::kUnfinished;
  return result;
}

}  // namespace threadleak
