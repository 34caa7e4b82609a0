#include "preload/capture/stack_sampler.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "preload/capture/call_on_stack.h"
#include "preload/capture/thread_scan.h"
#include "preload/capture/unwinder.h"
#include "preload/config/signal_names.h"
#include "preload/core/clock.h"
#include "preload/core/guard.h"
#include "preload/core/marked_signals.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"

namespace threadleak {
namespace {

constexpr int64_t kQuietPeriodNs = 250'000'000;  // give up after this long without an answer

struct Slot {
  std::atomic<int32_t> tid{0};
  std::atomic<bool> done{false};
  uint32_t depth = 0;
  uintptr_t pcs[TL_MAX_FRAMES + 8];
};

// Stacks for the unwinder, shared by the handlers of one batch. The monitor thread keeps at most
// kInFlight signals unanswered, so a handler finds a free stack at once; the spare ones serve
// late answers from threads given up on. 64 KiB: libunwind's deepest walks use a few KiB; what
// the interrupted thread has left may be less than that (call_on_stack.h).
// 32 in flight hide the time each thread takes to be scheduled on a loaded machine.
constexpr size_t kInFlight = 32;
constexpr size_t kUnwindStacks = 64;  // one bit each in Batch::stacks_in_use
constexpr size_t kUnwindStackBytes = 64 * 1024;
constexpr size_t kGuardBytes = 4096;  // below each stack, PROT_NONE
constexpr size_t kUnwindStride = kGuardBytes + kUnwindStackBytes;
// How long a handler waits for a free stack before it gives up (the thread then gets the
// kernel's pc): bounded, since the holders may be stuck behind a lock the waiter holds (the
// loader's, taken by libunwind) or never run again under a real-time policy.
constexpr int64_t kStackWaitNs = 100'000'000;

struct Batch {
  uint32_t generation;
  size_t count;
  Slot* slots;
  char* unwind_stacks;  // kUnwindStacks * kUnwindStride, each stack above its guard page
  std::atomic<uint32_t> completed{0};      // a futex word: the monitor thread waits on it
  std::atomic<uint64_t> stacks_in_use{0};  // one bit per unwind stack
};

struct UnwindJob {
  ucontext_t* context;
  Slot* slot;
};

void Unwind(void* opaque) {
  auto* job = static_cast<UnwindJob*>(opaque);
  job->slot->depth = static_cast<uint32_t>(
      CaptureInterruptedStack(job->context, job->slot->pcs, TL_MAX_FRAMES + 8));
}

// Runs the unwind on one of the batch's stacks, waiting a bounded time for one to be free.
// Returns false if none became free.
bool UnwindOnToolStack(Batch* batch, UnwindJob* job) {
  int64_t deadline = 0;
  for (;;) {
    uint64_t in_use = batch->stacks_in_use.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kUnwindStacks; ++i) {
      uint64_t bit = uint64_t{1} << i;
      if ((in_use & bit) != 0) continue;
      if (batch->stacks_in_use.fetch_or(bit, std::memory_order_acquire) & bit) continue;
      CallOnStack(batch->unwind_stacks + (i + 1) * kUnwindStride, Unwind, job);
      batch->stacks_in_use.fetch_and(~bit, std::memory_order_release);
      return true;
    }
    int64_t now = MonotonicNanos();  // clock_gettime: async-signal-safe
    if (deadline == 0) deadline = now + kStackWaitNs;
    if (now > deadline) return false;
    sched_yield();
  }
}

constinit std::atomic<Batch*> g_batch{nullptr};
constinit std::atomic<int> g_handlers_running{0};
constinit uint32_t g_generation = 0;
constinit bool g_handler_installed = false;
constinit struct sigaction g_previous_action = {};
// The program set an action of its own for the sampling signal: it is the program's from then on,
// and running threads are no longer sampled.
constinit std::atomic<bool> g_stepped_aside{false};
// The largest signal frame seen: what the kernel pushes below the interrupted stack pointer
// before the handler runs (mostly the FPU/vector state: from 1 KiB to 11 KiB with AMX).
constinit std::atomic<uintptr_t> g_signal_frame_bytes{0};

// Payload of the signal: a marker in the top 16 bits (so the program's own sigqueue of this
// signal is never taken for a sample), the batch's generation in the next 16, the slot index in
// the low 32.
constexpr uintptr_t kSampleMarker = 0x7e1a;

uintptr_t Encode(uint32_t generation, size_t index) {
  return (kSampleMarker << 48) | (static_cast<uintptr_t>(generation & 0xffff) << 32) |
         static_cast<uint32_t>(index);
}

bool IsSample(const siginfo_t* info) {
  return info->si_code == SI_QUEUE && info->si_pid == getpid() &&
         (reinterpret_cast<uintptr_t>(info->si_value.sival_ptr) >> 48) == kSampleMarker;
}

// Not a sample: what the signal would have done without threadleak. The default action of a
// real-time signal ends the process: restored, and the signal raised again for this thread (it
// is blocked while this handler runs, so it is delivered on return).
void ActAsWithoutTool(int signal, siginfo_t* info, void* context) {
  if (g_previous_action.sa_flags & SA_SIGINFO) {
    if (g_previous_action.sa_sigaction != nullptr) {
      g_previous_action.sa_sigaction(signal, info, context);
    }
  } else if (g_previous_action.sa_handler == SIG_DFL) {
    struct sigaction default_action = {};
    default_action.sa_handler = SIG_DFL;
    Real().sigaction(signal, &default_action, nullptr);
    g_handler_installed = false;
    Real().syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), signal, info);
  } else if (g_previous_action.sa_handler != SIG_IGN) {
    g_previous_action.sa_handler(signal);
  }
}

constinit std::atomic<void (*)()> g_time_limit_action{nullptr};

void OnSampleSignal(int signal, siginfo_t* info, void* context) {
  if (info->si_code == SI_TIMER &&
      reinterpret_cast<uintptr_t>(info->si_value.sival_ptr) == kTimeLimitMarker) {
    if (auto action = g_time_limit_action.load(std::memory_order_acquire)) action();
  }
  if (!IsSample(info)) {
    ActAsWithoutTool(signal, info, context);
    return;
  }
  int saved_errno = errno;
  auto* interrupted = static_cast<ucontext_t*>(context);
  uintptr_t frame = static_cast<uintptr_t>(interrupted->uc_mcontext.gregs[REG_RSP]) -
                    reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  // (Not a frame size when the handler runs on an alternate stack the thread was not using.)
  if (frame < (64u << 10) && frame > g_signal_frame_bytes.load(std::memory_order_relaxed)) {
    g_signal_frame_bytes.store(frame, std::memory_order_relaxed);
  }
  bool was_in_tool = t_in_tool;
  t_in_tool = true;
  g_handlers_running.fetch_add(1, std::memory_order_seq_cst);
  Batch* batch = g_batch.load(std::memory_order_seq_cst);
  auto payload = reinterpret_cast<uintptr_t>(info->si_value.sival_ptr);
  size_t index = payload & 0xffffffffu;
  if (batch != nullptr && (batch->generation & 0xffff) == ((payload >> 32) & 0xffff) &&
      index < batch->count) {
    Slot& slot = batch->slots[index];
    if (slot.tid.load(std::memory_order_relaxed) == static_cast<int32_t>(gettid()) &&
        !slot.done.load(std::memory_order_relaxed)) {
      UnwindJob job{interrupted, &slot};
      if (!UnwindOnToolStack(batch, &job)) {  // the interrupted pc, at least
        slot.pcs[0] = static_cast<uintptr_t>(interrupted->uc_mcontext.gregs[REG_RIP]);
        slot.depth = 1;
      }
      slot.done.store(true, std::memory_order_release);
      batch->completed.fetch_add(1, std::memory_order_release);
      Real().syscall(SYS_futex, &batch->completed, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }
  g_handlers_running.fetch_sub(1, std::memory_order_seq_cst);
  t_in_tool = was_in_tool;
  errno = saved_errno;
}

void InstallHandlerOnce() {
  if (g_handler_installed || g_stepped_aside.load(std::memory_order_acquire)) return;
  ToolScope scope;
  // Installed for good: a late signal (from a thread that had it blocked) must find a handler,
  // since the default action of a real-time signal kills the process.
  struct sigaction action = {};
  action.sa_sigaction = OnSampleSignal;
  action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&action.sa_mask);
  sigaction(SampleSignal(), &action, &g_previous_action);
  g_handler_installed = true;
}

bool SendSample(int32_t tid, uintptr_t payload) {
  siginfo_t info = MarkedSignal(SampleSignal(), payload);
  return Real().syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SampleSignal(), &info) == 0;
}

// A thread that is on its alternate signal stack (blocked inside a handler) with less room left
// there than a signal frame: the kernel could not deliver the sampler's signal and would kill
// the process with SIGSEGV instead. Such threads get the kernel's pc alone.
struct Altstack {
  int32_t tid;
  uintptr_t low;
  size_t size;
};

struct AltstackList {
  Altstack* items;  // sorted by tid once collected (some runtimes give every thread one)
  size_t count;
  size_t capacity;
  size_t needed_room;  // NeededRoom() when the batch began
};

void CollectAltstack(const ThreadRecord& record, void* opaque) {
  auto* list = static_cast<AltstackList*>(opaque);
  size_t size = record.altstack_size.load(std::memory_order_relaxed);
  int32_t tid = record.tid.load(std::memory_order_relaxed);
  if (size == 0 || tid <= 0 || list->count == list->capacity) return;
  list->items[list->count++] = {tid, record.altstack_low.load(std::memory_order_relaxed), size};
}

size_t NeededRoom() {
  size_t frame = g_signal_frame_bytes.load(std::memory_order_relaxed);
  if (frame == 0) {
    // Before any was seen: the kernel's worst case (0 before Linux 5.14), or glibc's, which it
    // computes from the CPU's state size.
    frame = getauxval(AT_MINSIGSTKSZ);
    long from_libc = sysconf(_SC_MINSIGSTKSZ);
    if (from_libc > 0 && static_cast<size_t>(from_libc) > frame) frame = from_libc;
  }
  return (frame > 2048 ? frame : 2048) + 1024;  // + the handler's frame before it switches
}

bool TooLittleRoomOnAltstack(const AltstackList& altstacks, int32_t tid) {
  const Altstack* begin = altstacks.items;
  const Altstack* end = begin + altstacks.count;
  const Altstack* altstack = std::lower_bound(
      begin, end, tid, [](const Altstack& a, int32_t wanted) { return a.tid < wanted; });
  if (altstack == end || altstack->tid != tid) return false;
  // Not on it, the kernel puts the sampler's frame at its top (SA_ONSTACK): it must fit whole.
  if (altstack->size < altstacks.needed_room) return true;
  SyscallState kernel = ReadSyscallState(tid);
  if (kernel.sp <= altstack->low || kernel.sp > altstack->low + altstack->size) return false;
  return kernel.sp - altstack->low < altstacks.needed_room;
}

// Waits until `completed` moves past `seen`, or 10 ms.
void WaitForCompletions(std::atomic<uint32_t>* completed, uint32_t seen) {
  timespec timeout = {0, 10'000'000};
  Real().syscall(SYS_futex, completed, FUTEX_WAIT_PRIVATE, seen, &timeout, nullptr, 0);
}

void PauseBriefly() {
  timespec pause = {0, 1'000'000};
  Real().nanosleep(&pause, nullptr);
}

}  // namespace

// Declared with the options (config/signal_names.h): no option may name it.
int SampleSignal() {
  return SamplingSignal();
}

namespace {

// Running user code, as far as the kernel said a moment ago, and the report has no stack for it.
bool MaySample(const tl_thread& thread, int32_t self) {
  return thread.state == TL_STATE_RUNNING && thread.stack.depth == 0 &&
         thread.unwind.kind == TL_UNWIND_NONE && thread.tid > 0 && thread.tid != self;
}

// Checked again just before the signal goes: the thread must still be running user code (not
// in a system call, which the signal could cut short) and must not block the signal (it would
// stay pending, to be delivered whenever the thread unblocks it).
// Returns TL_MISSING_UNKNOWN when it is, else why not.
uint32_t WhyNotSafeToSignal(int32_t tid) {
  if ((ReadSignalMask(tid, "SigBlk") >> (SampleSignal() - 1)) & 1) {
    return TL_MISSING_SIGNAL_BLOCKED;
  }
  SyscallState kernel = ReadSyscallState(tid);
  return kernel.known && kernel.running ? TL_MISSING_UNKNOWN : TL_MISSING_MOVED;
}

}  // namespace

void SampleRunningStacks(tl_thread* threads, size_t count) {
  ToolScope scope;
  const int32_t self = static_cast<int32_t>(gettid());
  size_t candidates = 0;
  for (size_t i = 0; i < count; ++i) candidates += MaySample(threads[i], self);
  if (candidates == 0) return;
  auto none_sampled = [&](uint32_t why) {
    for (size_t i = 0; i < count; ++i) {
      if (MaySample(threads[i], self)) threads[i].stack_missing = why;
    }
  };
  if (g_stepped_aside.load(std::memory_order_acquire)) return none_sampled(TL_MISSING_SIGNAL_TAKEN);
  // Under a debugger every signal stops the program (gdb kills it in batch mode): a traced
  // process's running threads are shown without a stack rather than signalled.
  if (ProcessIsTraced()) return none_sampled(TL_MISSING_TRACED);
  InstallHandlerOnce();
  if (!g_handler_installed) return none_sampled(TL_MISSING_SIGNAL_TAKEN);
  size_t stacks_bytes = kUnwindStacks * kUnwindStride;
  auto whole_pages = [](size_t bytes) { return (bytes + 4095) & ~size_t{4095}; };
  size_t slots_bytes = whole_pages(sizeof(Slot) * (count == 0 ? 1 : count));
  // Threads with an alternate stack: at most one per record (records made while we look may be
  // left out; they are not in `threads` anyway).
  size_t altstack_capacity = LiveRecordCount() + 64;
  size_t altstack_bytes = whole_pages(sizeof(Altstack) * altstack_capacity);
  size_t bytes = stacks_bytes + slots_bytes + altstack_bytes;
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;
  auto* stacks = static_cast<char*>(memory);
  for (size_t i = 0; i < kUnwindStacks; ++i) {
    mprotect(stacks + i * kUnwindStride, kGuardBytes, PROT_NONE);
  }
  auto* slots = reinterpret_cast<Slot*>(stacks + stacks_bytes);  // zero-filled: empty slots
  Batch batch{++g_generation, count, slots, stacks};
  AltstackList altstacks{reinterpret_cast<Altstack*>(stacks + stacks_bytes + slots_bytes), 0,
                         altstack_capacity, NeededRoom()};
  ForEachRecord(CollectAltstack, &altstacks);
  std::sort(altstacks.items, altstacks.items + altstacks.count,
            [](const Altstack& a, const Altstack& b) { return a.tid < b.tid; });
  for (size_t i = 0; i < count; ++i) slots[i].tid.store(threads[i].tid, std::memory_order_relaxed);
  g_batch.store(&batch, std::memory_order_seq_cst);

  // A sliding window of signals: at most kInFlight unanswered. A thread that does not answer
  // (it blocks the signal, or is stopped) is given up on once nothing has answered for the quiet
  // period; every unanswered one then is, and sending goes on.
  uint32_t sent = 0;
  uint32_t given_up = 0;
  size_t next = 0;
  int64_t last_progress = MonotonicNanos();
  uint32_t last_completed = 0;
  for (;;) {
    uint32_t completed = batch.completed.load(std::memory_order_acquire);
    auto in_flight = [&] {
      uint32_t answered = completed + given_up;  // (late answers may count twice: no matter)
      return sent > answered ? sent - answered : 0;
    };
    for (; next < count && in_flight() < kInFlight; ++next) {
      tl_thread& thread = threads[next];
      if (!MaySample(thread, self)) continue;
      if (TooLittleRoomOnAltstack(altstacks, thread.tid)) {
        thread.stack_missing = TL_MISSING_ALTSTACK;
        continue;
      }
      if (uint32_t why = WhyNotSafeToSignal(thread.tid); why != TL_MISSING_UNKNOWN) {
        thread.stack_missing = why;
        continue;
      }
      thread.stack_missing = TL_MISSING_NO_ANSWER;  // until it answers
      if (SendSample(thread.tid, Encode(batch.generation, next))) ++sent;
    }
    if (next == count && completed + given_up >= sent) break;
    WaitForCompletions(&batch.completed, completed);
    int64_t now = MonotonicNanos();
    uint32_t now_completed = batch.completed.load(std::memory_order_acquire);
    if (now_completed != last_completed) {
      last_completed = now_completed;
      last_progress = now;
    } else if (now - last_progress > kQuietPeriodNs) {
      if (next == count) break;
      given_up = sent - now_completed;  // (a late answer still lands in its slot)
      last_progress = now;
    }
  }
  // Retire the batch, then wait out any handler that already picked it up.
  g_batch.store(nullptr, std::memory_order_seq_cst);
  while (g_handlers_running.load(std::memory_order_seq_cst) != 0) PauseBriefly();

  for (size_t i = 0; i < count; ++i) {
    if (!slots[i].done.load(std::memory_order_acquire) || slots[i].depth == 0) continue;
    threads[i].stack_missing = TL_MISSING_UNKNOWN;
    tl_stack& stack = threads[i].stack;
    stack.kind = TL_STACK_INTERRUPTED;
    stack.depth = std::min<uint32_t>(slots[i].depth, TL_MAX_FRAMES);
    memcpy(stack.pcs, slots[i].pcs, sizeof(uintptr_t) * stack.depth);
  }
  munmap(memory, bytes);
}

bool InstallSampleHandler() {
  InstallHandlerOnce();
  return g_handler_installed;
}

const struct sigaction* NoteProgramSignalAction(int signal, bool sets) {
  if (signal != SampleSignal()) return nullptr;
  bool was_installed = g_handler_installed;
  if (sets && !g_stepped_aside.exchange(true)) g_handler_installed = false;
  // What the program would see without threadleak: its own earlier action, or the default.
  return was_installed ? &g_previous_action : nullptr;
}

void SetTimeLimitAction(void (*on_time_limit)()) {
  g_time_limit_action.store(on_time_limit, std::memory_order_release);
}

}  // namespace threadleak
