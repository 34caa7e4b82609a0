#include "preload/report/blocked_stacks.h"

#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "preload/capture/process_memory.h"
#include "preload/capture/thread_scan.h"

namespace threadleak {
namespace {

constexpr int kAttempts = 3;  // unwinds of a thread that keeps moving before it is left out
constexpr int kFramePointerRegister = 6;  // DWARF numbers on x86-64: rbp,
constexpr int kStackPointerRegister = 7;  // rsp

// Where one unwind starts: the first frame's pc and what is known of its registers.
struct StartRegisters {
  Dwarf_Addr pc = 0;
  Dwarf_Word sp = 0;
  Dwarf_Word fp = 0;
  bool have_fp = false;
};

// The page of the program's memory that an unwind last read from. libdwfl reads a stack a word
// at a time, and each read is a system call that checks ptrace access (about a dozen per thread,
// a quarter of the time of an exit report of 10,000 threads); the words of one unwind lie in a
// page or two. Read once per unwind: a thread unwound again is read again.
struct MemoryWindow {
  static constexpr size_t kSize = 4096;
  uintptr_t start = 0;
  bool valid = false;
  alignas(8) unsigned char bytes[kSize];

  bool Read(uintptr_t address, uint64_t* out) {
    const uintptr_t page = address & ~uintptr_t{kSize - 1};
    if (address - page > kSize - sizeof *out) return ReadProcessMemory(address, out);  // straddles
    if (!valid || start != page) {
      valid = ReadProcessBytes(page, bytes, kSize) == static_cast<ssize_t>(kSize);
      start = page;
      if (!valid) return ReadProcessMemory(address, out);
    }
    memcpy(out, bytes + (address - page), sizeof *out);
    return true;
  }
};

struct Unwind {
  pid_t tid = 0;
  StartRegisters start;
  MemoryWindow* window = nullptr;  // reset for each unwind
  uintptr_t pcs[TL_MAX_FRAMES] = {};
  uint32_t depth = 0;
  Dwarf_Word last_sp = 0;  // the stack pointer of the last frame reached
  int result = 0;          // dwfl_getthread_frames': 0 when it reached a frame with no caller
};

// --- libdwfl's view of the process: one thread at a time, memory through process_vm_readv ---

pid_t NoThreadList(Dwfl*, void*, void**) {
  return 0;  // threads are asked for by tid (GetThread), never listed
}

bool GetThread(Dwfl*, pid_t tid, void* dwfl_arg, void** thread_arg) {
  auto* unwind = static_cast<Unwind*>(dwfl_arg);
  if (tid != unwind->tid) return false;
  *thread_arg = unwind;
  return true;
}

bool ReadMemory(Dwfl*, Dwarf_Addr address, Dwarf_Word* result, void* dwfl_arg) {
  uint64_t value;
  if (!static_cast<Unwind*>(dwfl_arg)->window->Read(address, &value)) return false;
  *result = value;
  return true;
}

bool SetInitialRegisters(Dwfl_Thread* thread, void* thread_arg) {
  const StartRegisters& start = static_cast<Unwind*>(thread_arg)->start;
  if (start.have_fp) {
    Dwarf_Word registers[2] = {start.fp, start.sp};
    if (!dwfl_thread_state_registers(thread, kFramePointerRegister, 2, registers)) return false;
  } else if (!dwfl_thread_state_registers(thread, kStackPointerRegister, 1, &start.sp)) {
    return false;
  }
  dwfl_thread_state_register_pc(thread, start.pc);
  return true;
}

constexpr Dwfl_Thread_Callbacks kThreadCallbacks = {
    .next_thread = NoThreadList,
    .get_thread = GetThread,
    .memory_read = ReadMemory,
    .set_initial_registers = SetInitialRegisters,
    .detach = nullptr,
    .thread_detach = nullptr,
};

// CFI comes from the modules' own .eh_frame: no separate debug files are looked for (and
// debuginfod is never asked) just to unwind.
int NoDebuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word,
                char**) {
  return -1;
}

int CollectFrame(Dwfl_Frame* frame, void* arg) {
  auto* unwind = static_cast<Unwind*>(arg);
  Dwarf_Addr pc;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
  // A stack holds return addresses after its first pc, looked up at pc - 1. A frame interrupted
  // by a signal (the one under a signal handler's frame) holds the exact pc: stored plus one,
  // it is looked up where it is.
  if (activation && unwind->depth > 0) ++pc;
  unwind->pcs[unwind->depth++] = static_cast<uintptr_t>(pc);
  dwfl_frame_reg(frame, kStackPointerRegister, &unwind->last_sp);
  return unwind->depth < TL_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

class ProcessUnwinder {
 public:
  ProcessUnwinder() {
    callbacks_.find_elf = dwfl_linux_proc_find_elf;
    callbacks_.find_debuginfo = NoDebuginfo;
    dwfl_ = dwfl_begin(&callbacks_);
    if (dwfl_ == nullptr) return;
    dwfl_report_begin(dwfl_);
    const pid_t pid = TargetProcess() != 0 ? TargetProcess() : getpid();
    bool reported = dwfl_linux_proc_report(dwfl_, pid) == 0;
    if (dwfl_report_end(dwfl_, nullptr, nullptr) != 0 || !reported ||
        !dwfl_attach_state(dwfl_, nullptr, pid, &kThreadCallbacks, &current_)) {
      dwfl_end(dwfl_);
      dwfl_ = nullptr;
    }
  }
  ~ProcessUnwinder() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }
  ProcessUnwinder(const ProcessUnwinder&) = delete;
  ProcessUnwinder& operator=(const ProcessUnwinder&) = delete;

  bool ok() const { return dwfl_ != nullptr; }

  // Whether `address` may be a return address: in a module, just after a call instruction.
  bool LooksLikeReturnAddress(uint64_t address) const {
    if (address < 8 || dwfl_addrmodule(dwfl_, address) == nullptr) return false;
    uint8_t b[8];  // the bytes before it; b[7] is the last byte of the call
    if (!ReadProcessMemory(address - 8, &b)) return false;
    auto indirect = [&](int at) { return b[at] == 0xff && (b[at + 1] & 0x38) == 0x10; };
    return b[3] == 0xe8 ||                // call rel32
           indirect(2) || indirect(4) ||  // call *disp32(...), call *disp8(...)
           indirect(5) || indirect(6);    // call *(reg), call *reg (with or without REX)
  }

  // The pcs of thread `tid` from `start`, innermost first (as libdwfl gives them: the first is
  // start.pc, the rest are return addresses).
  const Unwind& Run(pid_t tid, const StartRegisters& start) {
    current_ = Unwind{};
    current_.tid = tid;
    current_.start = start;
    window_.valid = false;
    current_.window = &window_;
    // Ends with -1 at the outermost frame or where CFI runs out; the frames so far stand.
    current_.result = dwfl_getthread_frames(dwfl_, tid, CollectFrame, &current_);
    return current_;
  }

 private:
  Dwfl_Callbacks callbacks_ = {};
  Dwfl* dwfl_ = nullptr;
  Unwind current_;
  MemoryWindow window_;
};

// `callee`, when known, goes first: the entry of the libc function the thread is waiting in,
// which the unwind itself, starting at the caller, does not include.
void StoreStack(tl_thread* thread, uint32_t kind, const Unwind& unwind, uintptr_t first_pc,
                uintptr_t callee = 0) {
  if (unwind.depth == 0) return;
  thread->stack_missing = TL_MISSING_UNKNOWN;
  tl_stack& stack = thread->stack;
  stack.kind = kind;
  stack.depth = 0;
  if (callee != 0) stack.pcs[stack.depth++] = callee;
  stack.pcs[stack.depth++] = first_pc;
  for (uint32_t i = 1; i < unwind.depth && stack.depth < TL_MAX_FRAMES; ++i) {
    stack.pcs[stack.depth++] = unwind.pcs[i];
  }
}

// A thread in a hooked wait: from the hook's caller, found through the hook's frame.
void UnwindFromHook(ProcessUnwinder& unwinder, tl_thread* thread) {
  tl_unwind_start& start = thread->unwind;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint64_t saved[2];  // the hook's frame: its caller's frame pointer, its return address
    if (start.frame != 0 && ReadProcessMemory(start.frame, &saved) && saved[1] != 0 &&
        saved[1] == start.return_address) {  // else the frame is gone: a stale slot
      const uint64_t caller_fp = saved[0];
      const uint64_t return_address = saved[1];
      // The caller's own registers at the call: its pc is the call instruction (return address
      // - 1, so the CFI looked up is the call's even when the call ends its function), its sp
      // is just above the return address.
      StartRegisters registers{return_address - 1, start.frame + 16, caller_fp, true};
      const Unwind& unwind = unwinder.Run(thread->tid, registers);
      uint64_t word_now;
      if (ReadProcessMemory(start.slot, &word_now) && word_now == start.word) {
        // With the callee first, the stack starts with an exact pc (its entry).
        StoreStack(thread, start.callee != 0 ? TL_STACK_INTERRUPTED : TL_STACK_RETURNS, unwind,
                   return_address, start.callee);
        return;
      }
    }
    // It left the wait the report saw. Still in one of the same kind on the same object (a
    // worker around its loop): unwind that one; anything else is not the thread the report
    // describes, so it gets no stack.
    thread->stack_missing = TL_MISSING_MOVED;  // unless the next attempt reads it
    tl_wait_slot slot;
    if (!ReadProcessMemory(start.slot, &slot)) return;
    if (static_cast<uint32_t>(slot.word) != thread->state || slot.object != thread->object) return;
    if (thread->state == TL_STATE_IO && slot.callee != start.callee) {
      // Another I/O call (epoll_wait, then writev): named as the kernel shows it now, not as the
      // first look did. The next attempt's check of the word says it stayed in that call.
      const SyscallState now = ReadSyscallState(thread->tid);
      thread->syscall_number = now.InSystemCall() ? now.number : -1;
    }
    start.word = slot.word;
    start.frame = slot.frame;
    start.callee = slot.callee;
    start.return_address = slot.return_address;
  }
}

// The frame pointer at a system call no hook saw is not known; most frames do not need it, but
// code built with frame pointers (-O0, -fno-omit-frame-pointer, Fedora's and Ubuntu's packages)
// finds its caller through it, and the walk ends there unless a frame below saved it. The frame
// that needs it keeps it at its base: a word above its stack pointer holding the caller's frame
// pointer (0, or a higher stack address), followed by a return address. The first few such
// places are tried, and the deepest walk wins.
Unwind GuessFramePointer(ProcessUnwinder& unwinder, pid_t tid, const StartRegisters& start,
                         const Unwind& first) {
  constexpr size_t kWords = 2048;  // how far above the stuck frame's stack pointer to look
  constexpr int kTries = 4;
  Unwind best = first;
  static thread_local uint64_t words[kWords];
  ssize_t got = ReadProcessBytes(first.last_sp, words, sizeof words);
  size_t count = got > 0 ? static_cast<size_t>(got) / 8 : 0;
  int tries = 0;
  for (size_t i = 0; i + 1 < count && tries < kTries; ++i) {
    uint64_t base = first.last_sp + i * 8;
    uint64_t caller_fp = words[i];
    if (caller_fp != 0 && (caller_fp <= base || caller_fp - base > (64u << 20))) continue;
    if (!unwinder.LooksLikeReturnAddress(words[i + 1])) continue;
    ++tries;
    StartRegisters guess = start;
    guess.fp = base;
    guess.have_fp = true;
    const Unwind& unwind = unwinder.Run(tid, guess);
    if (unwind.depth > best.depth) best = unwind;
    if (unwind.result == 0) break;  // reached the outermost frame
  }
  // No copy of another thread's stack stays behind: the reachability scan reads this process's
  // memory, and a stale copy would count as a reference to whatever that stack pointed to.
  std::fill(words, words + count, 0);
  return best;
}

// A thread in a system call no hook saw: from the kernel's sp and pc.
void UnwindFromSyscall(ProcessUnwinder& unwinder, tl_thread* thread) {
  tl_unwind_start& start = thread->unwind;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (start.pc == 0 || start.sp == 0) return;
    StartRegisters registers{start.pc, start.sp, 0, false};
    Unwind unwind = unwinder.Run(thread->tid, registers);
    // libdwfl ends a walk that needs an unknown register as if it were the outermost frame, so
    // every walk that is not full is tried again: a guess is kept only if it goes deeper, and
    // from the true outermost frame none can.
    if (unwind.depth > 0 && unwind.depth < TL_MAX_FRAMES) {
      unwind = GuessFramePointer(unwinder, thread->tid, registers, unwind);
    }
    SyscallState now = ReadSyscallState(thread->tid);
    if (now.known && !now.running && now.number == start.syscall && now.sp == start.sp &&
        now.pc == start.pc) {
      StoreStack(thread, TL_STACK_INTERRUPTED, unwind, start.pc);
      return;
    }
    thread->stack_missing = TL_MISSING_MOVED;
    if (!now.known || now.running || now.number != start.syscall) return;
    // Followed only into a wait of the same kind on the same futex, and while the thread's slot
    // holds the word it held when the wait was classified (no hooked wait begun since): a worker
    // that left a lock's futex for its condition variable's would be shown in the latter under
    // the former's word (the collector reads the slot and takes that wait).
    if (thread->state == TL_STATE_FUTEX && now.first_argument != thread->object) return;
    uint64_t word = 0;
    if (start.slot != 0 && (!ReadProcessMemory(start.slot, &word) || word != start.word)) return;
    start.sp = now.sp;
    start.pc = now.pc;
  }
}

// A thread stopped in its own signal handler (dump_on_fatal), from the registers the signal
// interrupted: it does not move until the report is written.
void UnwindFromRegisters(ProcessUnwinder& unwinder, tl_thread* thread) {
  const tl_unwind_start& start = thread->unwind;
  if (start.pc == 0 || start.sp == 0) return;
  StartRegisters registers{start.pc, start.sp, start.frame, true};
  const Unwind& unwind = unwinder.Run(thread->tid, registers);
  StoreStack(thread, TL_STACK_INTERRUPTED, unwind, start.pc);
}

}  // namespace

class BlockedStackUnwinder::Process : public ProcessUnwinder {};

BlockedStackUnwinder::BlockedStackUnwinder() : process_(std::make_unique<Process>()) {}

BlockedStackUnwinder::~BlockedStackUnwinder() = default;

void BlockedStackUnwinder::Unwind(tl_thread* threads, size_t count) {
  if (!process_->ok()) {
    // Said, not left blank: a process that gave up root for another user is not dumpable, and
    // its report writer, a process of that user, may not read it.
    for (size_t i = 0; i < count; ++i) {
      tl_thread& thread = threads[i];
      const uint32_t kind = thread.unwind.kind;
      if (thread.stack.depth == 0 && (kind == TL_UNWIND_HOOK || kind == TL_UNWIND_SYSCALL)) {
        thread.stack_missing = TL_MISSING_UNREADABLE;
      }
    }
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    tl_thread& thread = threads[i];
    if (thread.tid <= 0 || thread.stack.depth > 0) continue;
    switch (thread.unwind.kind) {
      case TL_UNWIND_HOOK:
        UnwindFromHook(*process_, &thread);
        break;
      case TL_UNWIND_SYSCALL:
        UnwindFromSyscall(*process_, &thread);
        break;
      case TL_UNWIND_REGISTERS:
        UnwindFromRegisters(*process_, &thread);
        break;
      default:
        break;
    }
  }
}

void UnwindBlockedStacks(tl_thread* threads, size_t count) {
  bool any = false;
  for (size_t i = 0; i < count && !any; ++i) any = threads[i].unwind.kind != TL_UNWIND_NONE;
  if (!any) return;
  BlockedStackUnwinder().Unwind(threads, count);
}

}  // namespace threadleak
