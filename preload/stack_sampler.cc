#include "preload/stack_sampler.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <new>

#include "preload/clock.h"
#include "preload/guard.h"
#include "preload/interruptions.h"
#include "preload/real_functions.h"
#include "preload/thread_scan.h"
#include "preload/unwinder.h"

namespace threadleak {
namespace {

// A real-time signal near the top of the range: programs that use real-time signals usually
// count up from SIGRTMIN.
int SampleSignal() {
  return SIGRTMAX - 3;
}

constexpr int64_t kQuietPeriodNs = 250'000'000;  // give up after this long without an answer

struct Slot {
  std::atomic<int32_t> tid{0};
  std::atomic<bool> done{false};
  uint32_t depth = 0;
  uintptr_t pcs[TL_MAX_FRAMES + 8];
};

struct Batch {
  uint32_t generation;
  size_t count;
  Slot* slots;
  std::atomic<size_t> completed{0};
};

constinit std::atomic<Batch*> g_batch{nullptr};
constinit std::atomic<int> g_handlers_running{0};
constinit uint32_t g_generation = 0;
constinit bool g_handler_installed = false;
constinit struct sigaction g_previous_action = {};

// Payload of the signal: generation in the high half, slot index in the low half.
uintptr_t Encode(uint32_t generation, size_t index) {
  return (static_cast<uintptr_t>(generation) << 32) | static_cast<uint32_t>(index);
}

void ChainToPrevious(int signal, siginfo_t* info, void* context) {
  if (g_previous_action.sa_flags & SA_SIGINFO) {
    if (g_previous_action.sa_sigaction != nullptr) {
      g_previous_action.sa_sigaction(signal, info, context);
    }
  } else if (g_previous_action.sa_handler != SIG_IGN && g_previous_action.sa_handler != SIG_DFL) {
    g_previous_action.sa_handler(signal);
  }
}

void OnSampleSignal(int signal, siginfo_t* info, void* context) {
  if (info->si_code != SI_QUEUE || info->si_pid != getpid()) {
    ChainToPrevious(signal, info, context);  // not ours: the program's own use of the signal
    return;
  }
  int saved_errno = errno;
  NoteToolInterruption();  // before anything else: the interrupted call must see it
  bool was_in_tool = t_in_tool;
  t_in_tool = true;
  g_handlers_running.fetch_add(1, std::memory_order_seq_cst);
  Batch* batch = g_batch.load(std::memory_order_seq_cst);
  auto payload = reinterpret_cast<uintptr_t>(info->si_value.sival_ptr);
  size_t index = payload & 0xffffffffu;
  if (batch != nullptr && batch->generation == (payload >> 32) && index < batch->count) {
    Slot& slot = batch->slots[index];
    if (slot.tid.load(std::memory_order_relaxed) == static_cast<int32_t>(gettid()) &&
        !slot.done.load(std::memory_order_relaxed)) {
      slot.depth = static_cast<uint32_t>(
          CaptureInterruptedStack(static_cast<ucontext_t*>(context), slot.pcs, TL_MAX_FRAMES + 8));
      slot.done.store(true, std::memory_order_release);
      batch->completed.fetch_add(1, std::memory_order_release);
    }
  }
  g_handlers_running.fetch_sub(1, std::memory_order_seq_cst);
  t_in_tool = was_in_tool;
  errno = saved_errno;
}

void InstallHandlerOnce() {
  if (g_handler_installed) return;
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
  siginfo_t info = {};
  info.si_signo = SampleSignal();
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_ptr = reinterpret_cast<void*>(payload);
  return Real().syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SampleSignal(), &info) == 0;
}

void PauseBriefly() {
  timespec pause = {0, 1'000'000};
  Real().nanosleep(&pause, nullptr);
}

void StoreStack(tl_stack* stack, uint32_t kind, const uintptr_t* pcs, size_t depth) {
  // The tool's own frames (a hook between the program and libc) are never shown. If the thread
  // was interrupted inside the tool itself, the first kept pc is a return address.
  bool first_dropped = depth > 0 && IsToolAddress(pcs[0]);
  stack->depth = static_cast<uint32_t>(DropToolFrames(pcs, depth, stack->pcs, TL_MAX_FRAMES));
  stack->kind = stack->depth == 0                                 ? TL_STACK_NONE
                : (kind == TL_STACK_INTERRUPTED && first_dropped) ? TL_STACK_RETURNS
                                                                  : kind;
}

}  // namespace

// A real-time signal near the top of the range: programs that use real-time signals usually
// count up from SIGRTMIN.
int SampleSignal() {
  return SIGRTMAX - 3;
}

void SampleStacks(tl_thread* threads, size_t count) {
  ToolScope scope;
  InstallHandlerOnce();
  size_t bytes = sizeof(Slot) * (count == 0 ? 1 : count);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;
  auto* slots = static_cast<Slot*>(memory);  // zero-filled pages are valid empty slots
  Batch batch{++g_generation, count, slots};
  for (size_t i = 0; i < count; ++i) slots[i].tid.store(threads[i].tid, std::memory_order_relaxed);
  g_batch.store(&batch, std::memory_order_seq_cst);

  size_t sent = 0;
  int32_t self = static_cast<int32_t>(gettid());
  for (size_t i = 0; i < count; ++i) {
    if (threads[i].state == TL_STATE_FINISHED || threads[i].tid <= 0 || threads[i].tid == self) {
      continue;
    }
    if (SendSample(threads[i].tid, Encode(batch.generation, i))) ++sent;
  }
  size_t last_completed = 0;
  int64_t last_progress = MonotonicNanos();
  while (batch.completed.load(std::memory_order_acquire) < sent) {
    PauseBriefly();
    size_t completed = batch.completed.load(std::memory_order_acquire);
    if (completed != last_completed) {
      last_completed = completed;
      last_progress = MonotonicNanos();
    } else if (MonotonicNanos() - last_progress > kQuietPeriodNs) {
      break;
    }
  }
  // Retire the batch, then wait out any handler that already picked it up.
  g_batch.store(nullptr, std::memory_order_seq_cst);
  while (g_handlers_running.load(std::memory_order_seq_cst) != 0) PauseBriefly();

  for (size_t i = 0; i < count; ++i) {
    tl_thread& thread = threads[i];
    if (thread.state == TL_STATE_FINISHED) continue;
    if (slots[i].done.load(std::memory_order_acquire)) {
      StoreStack(&thread.stack, TL_STACK_INTERRUPTED, slots[i].pcs, slots[i].depth);
      continue;
    }
    SyscallState kernel_view = ReadSyscallState(thread.tid);
    if (kernel_view.pc != 0) {
      uintptr_t pc = kernel_view.pc;
      StoreStack(&thread.stack, TL_STACK_INTERRUPTED, &pc, 1);
    }
  }
  munmap(memory, bytes);
}

}  // namespace threadleak
