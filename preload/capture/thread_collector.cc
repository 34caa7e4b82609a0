#include "preload/capture/thread_collector.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "preload/capture/blockers.h"
#include "preload/capture/process_memory.h"
#include "preload/capture/stack_sampler.h"
#include "preload/capture/thread_scan.h"
#include "preload/capture/unwinder.h"
#include "preload/core/clock.h"
#include "preload/core/lock_waits.h"
#include "preload/core/object_touches.h"
#include "preload/core/real_functions.h"
#include "preload/core/registry.h"
#include "preload/core/runtime.h"
#include "preload/core/thread_record.h"
#include "preload/core/tool_thread.h"
#include "preload/core/wait_scope.h"
#include "preload/handoff/report_output.h"
#include "preload/handoff/report_writer.h"
#include "preload/test_frameworks/gtest_state.h"

namespace threadleak {
namespace {

constexpr int64_t kNotClassified = -2;
constexpr int64_t kMovedThreadsWaitNs = 50'000'000;  // see ReadyToUnwindAgain

struct CopyContext {
  tl_thread* threads;
  size_t capacity;
  size_t count;
  int32_t self;
  const CollectFilter* filter;
  int64_t now_ns;
  size_t unstarted = 0;
};

void CopyRecord(const ThreadRecord& record, void* opaque) {
  auto* context = static_cast<CopyContext*>(opaque);
  int32_t tid = record.tid.load(std::memory_order_acquire);
  uint32_t lifecycle = record.lifecycle.load(std::memory_order_acquire);
  if (tid == context->self) return;
  const CollectFilter& filter = *context->filter;
  if ((lifecycle & kMainThread) && !filter.include_main_thread) return;
  if (filter.since_mark && record.creation_sequence <= filter.mark) return;
  if ((lifecycle & kExisting) && filter.exclude_existing) return;
  if (tid == 0) {
    // Created, but it has not run a single instruction yet (its tid is stored when it starts):
    // not a thread a report can name or sample. The grace period waits for it; the next look
    // sees it.
    ++context->unstarted;
    return;
  }
  if (context->count++ >= context->capacity) return;  // counted, so the caller retries larger
  tl_thread& out = context->threads[context->count - 1];
  out = tl_thread{};
  out.tid = tid;
  out.object = 0;
  out.blocked_ns = -1;
  out.syscall_number = -1;
  // Kept for every live thread, waiting or not, with the word it held: ClassifyAndName reads the
  // slot again around its look at the kernel's view (ReadSlotAndKernel), and only a word that
  // moved on from this one is a wait begun since.
  out.unwind.slot = reinterpret_cast<uintptr_t>(&record.wait);
  out.unwind.word = record.wait.word.load(std::memory_order_acquire);
  if (lifecycle & kFinished) {
    out.state = TL_STATE_FINISHED;
    memcpy(out.name, record.name, TL_NAME_LEN);
  } else if (uint64_t word = record.wait.word.load(std::memory_order_acquire);
             static_cast<uint32_t>(word) != kNotWaiting) {
    out.state = static_cast<uint32_t>(word);
    out.object = record.wait.object.load(std::memory_order_relaxed);
    const WaitStart start = WaitStartSeenBy(record, context->now_ns);
    out.blocked_ns = std::max<int64_t>(0, context->now_ns - start.ns);
    if (!start.recorded) out.flags |= TL_THREAD_BLOCKED_AT_LEAST;
    out.unwind.kind = TL_UNWIND_HOOK;
    out.unwind.slot = reinterpret_cast<uintptr_t>(&record.wait);
    out.unwind.word = word;
    out.unwind.frame = record.wait.frame.load(std::memory_order_relaxed);
    out.unwind.callee = record.wait.callee.load(std::memory_order_relaxed);
    out.unwind.return_address = record.wait.return_address.load(std::memory_order_relaxed);
    // ClassifyAndName checks the slot against the kernel's view, and names an I/O wait's call.
  } else {
    out.state = TL_STATE_RUNNING;
    out.syscall_number = kNotClassified;
  }
  out.creator_tid = (lifecycle & kMainThread) ? -1 : record.creator_tid;
  if (lifecycle & kMainThread) out.flags |= TL_THREAD_MAIN;
  if (record.hashed.load(std::memory_order_relaxed))
    out.handle = reinterpret_cast<uintptr_t>(record.handle);
  memcpy(out.creator_name, record.creator_name, TL_NAME_LEN);
  out.test_source = record.test_source;
  if (record.test_source == kTestNoneUnconfirmed) {
    // A read before any confirmed the layout found no test: a later confirmation says there was
    // none to find.
    out.test_source = GoogleTestLayoutConfirmed() ? TL_TEST_NONE : TL_TEST_UNKNOWN;
  }
  // A reused record keeps the last thread's test name (thread_record.h): copied only when it is
  // this thread's.
  if (record.test_source == TL_TEST_RUNNING || record.test_source == TL_TEST_INHERITED) {
    memcpy(out.test_name, record.test_name, TL_TEST_NAME_LEN);
  }
  out.creation.kind = record.creation_depth > 0 ? TL_STACK_RETURNS : TL_STACK_NONE;
  out.creation.depth = record.creation_depth;
  memcpy(out.creation.pcs, record.creation, sizeof(uintptr_t) * record.creation_depth);
}

void* MapBytes(size_t bytes) {
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

// Adds the tasks no record describes. Returns false if there was no room.
bool AddUnknownTasks(CopyContext* context, int32_t* tids, size_t task_count) {
  // Threads the shim never saw being created existed before any mark, and before main.
  if (context->filter->since_mark || context->filter->exclude_existing) return true;
  size_t known_count = context->count;
  int32_t* known = tids + task_count;  // scratch space after the task list
  for (size_t i = 0; i < known_count; ++i) known[i] = context->threads[i].tid;
  std::sort(known, known + known_count);
  int32_t main_tid = static_cast<int32_t>(getpid());
  for (size_t i = 0; i < task_count; ++i) {
    int32_t tid = tids[i];
    if (tid == context->self || tid == main_tid || IsToolThread(tid)) continue;
    if (std::binary_search(known, known + known_count, tid) || RecentlyExited(tid)) continue;
    if (context->count >= context->capacity) return false;
    tl_thread& out = context->threads[context->count++];
    out = tl_thread{};
    out.tid = tid;
    out.state = TL_STATE_RUNNING;
    out.blocked_ns = -1;
    out.syscall_number = kNotClassified;
    out.creator_tid = -1;
  }
  return true;
}

// Whether the system call the kernel shows a thread in cannot be the one its hooked wait makes:
// the slot was left behind (a siglongjmp out of the wait, a cancellation unwinding through it)
// and the thread now waits elsewhere. A sleep is a nanosleep; the waits on synchronisation
// objects sleep on a futex; no hooked I/O call but syscall() ever makes a futex wait. A signal
// handler that interrupted the hooked wait and blocks in a call of its own is caught too: the
// innermost wait is where the thread is.
bool KernelContradictsSlot(uint32_t state, uintptr_t callee, long number) {
  // The kernel resumes a wait that a ptrace stop interrupted (a debugger, strace, or
  // LeakSanitizer's exit check attaching) as restart_syscall: whatever wait it was, it goes on.
  if (number == SYS_restart_syscall) return false;
  const bool futex = number == SYS_futex || number == SYS_futex_waitv;
  if (tl_state_waits_for_others(state)) return !futex;
  switch (state) {
    case TL_STATE_SLEEP:
      return number != SYS_nanosleep && number != SYS_clock_nanosleep;
    case TL_STATE_IO:
      return futex && callee != reinterpret_cast<uintptr_t>(Real().syscall);
    default:
      return false;
  }
}

// In a system call no hook saw: the kernel's sp and pc are where the unwind starts.
void ClassifyBySyscall(tl_thread* thread, const SyscallState& kernel) {
  thread->syscall_number = kernel.number;
  thread->unwind.kind = TL_UNWIND_SYSCALL;
  thread->unwind.syscall = kernel.number;
  thread->unwind.sp = kernel.sp;
  thread->unwind.pc = kernel.pc;
  thread->object = 0;
  if (kernel.number == SYS_futex || kernel.number == SYS_futex_waitv) {
    thread->state = TL_STATE_FUTEX;
    thread->object = kernel.first_argument;
  } else if (kernel.number == SYS_nanosleep || kernel.number == SYS_clock_nanosleep) {
    thread->state = TL_STATE_SLEEP;
  } else {
    thread->state = TL_STATE_IO;
  }
}

// A thread's wait slot and the kernel's view of the thread, read as one: the slot's word before
// and after the kernel's state, the pair taken only when both reads agree. A thread that entered
// or left a hooked wait in between (a worker back at its condition variable) is read again.
// Without this, the kernel's futex wait inside pthread_cond_wait, seen just after the copy of
// the records showed the thread running, passed for a futex wait no hook saw — on the condition
// variable's inner word, which no hook records a waker of: "definitely leaked" for a pool thread
// that the next pthread_cond_signal wakes (nginx's thread pool under load, ~5 dumps in 200).
// The return address found at the hook's frame is read inside the same window: read after it, a
// worker back at the top of its loop, in a lock called from the same depth, has put its own
// return address there, and the wait seen a moment before passed for a stale slot.
// Records are never unmapped, so the slot is read in place; but a record is reused once its
// thread has ended and been joined, so the record's tid is checked in the same window: another
// thread's wait is never taken for this one's (a thread that ended is left to the kernel's view).
struct SlotAndKernel {
  bool consistent = false;
  tl_wait_slot slot{};
  SyscallState kernel;
  bool frame_read = false;             // a hooked wait's frame could be read
  uintptr_t frame_return_address = 0;  // what lies at its frame + 8
};

const ThreadRecord* RecordOfSlot(const WaitSlot* slot) {
  return reinterpret_cast<const ThreadRecord*>(reinterpret_cast<const char*>(slot) -
                                               offsetof(ThreadRecord, wait));
}

SlotAndKernel ReadSlotAndKernel(uintptr_t slot_address, int32_t tid) {
  SlotAndKernel view;
  const auto* slot = reinterpret_cast<const WaitSlot*>(slot_address);
  const ThreadRecord* record = slot != nullptr ? RecordOfSlot(slot) : nullptr;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (record != nullptr && record->tid.load(std::memory_order_acquire) != tid) slot = nullptr;
    if (slot == nullptr) {  // no record (any more): never in a hook the report can see
      view.kernel = ReadSyscallState(tid);
      view.slot.word = kNotWaiting;
      view.consistent = true;
      return view;
    }
    const uint64_t before = slot->word.load(std::memory_order_acquire);
    view.slot.object = slot->object.load(std::memory_order_relaxed);
    view.slot.since_ns = slot->since_ns.load(std::memory_order_relaxed);
    view.slot.frame = slot->frame.load(std::memory_order_relaxed);
    view.slot.callee = slot->callee.load(std::memory_order_relaxed);
    view.slot.return_address = slot->return_address.load(std::memory_order_relaxed);
    view.kernel = ReadSyscallState(tid);
    view.frame_read = static_cast<uint32_t>(before) != kNotWaiting &&
                      ReadProcessMemory(view.slot.frame + 8, &view.frame_return_address);
    std::atomic_thread_fence(std::memory_order_acquire);  // the loads above before this one
    if (slot->word.load(std::memory_order_relaxed) == before &&
        record->tid.load(std::memory_order_relaxed) == tid) {
      view.slot.word = before;
      view.consistent = true;
      return view;
    }
  }
  return view;
}

// The wait in `slot`, taken as the thread's (it began after the records were copied).
void TakeWait(tl_thread* thread, const tl_wait_slot& slot, int64_t now_ns) {
  const uintptr_t slot_address = thread->unwind.slot;
  thread->state = static_cast<uint32_t>(slot.word);
  thread->object = slot.object;
  // A wait begun after the copy: if nobody stamped it yet, it is as old as this look says.
  const WaitStart start =
      slot.since_ns == kSinceUnknown ? WaitStart{now_ns, false} : WaitStartFromSlot(slot.since_ns);
  thread->blocked_ns = std::max<int64_t>(0, now_ns - start.ns);
  thread->flags &= ~static_cast<uint32_t>(TL_THREAD_BLOCKED_AT_LEAST);
  if (!start.recorded) thread->flags |= TL_THREAD_BLOCKED_AT_LEAST;
  thread->syscall_number = -1;
  thread->unwind = tl_unwind_start{};
  thread->unwind.kind = TL_UNWIND_HOOK;
  thread->unwind.slot = slot_address;
  thread->unwind.word = slot.word;
  thread->unwind.frame = slot.frame;
  thread->unwind.callee = slot.callee;
  thread->unwind.return_address = slot.return_address;
}

// No hooked wait: running, unless the kernel shows a system call. `word` is the slot's word
// seen meanwhile (kNotWaiting, or a stale wait's): a later look takes only a wait begun since.
void ForgetWait(tl_thread* thread, uint64_t word) {
  const uintptr_t slot_address = thread->unwind.slot;
  thread->state = TL_STATE_RUNNING;
  thread->object = 0;
  thread->blocked_ns = -1;
  thread->unwind = tl_unwind_start{};
  thread->unwind.slot = slot_address;
  thread->unwind.word = word;
}

// Whether the slot's word seen in `view` is a wait begun after the one remembered in `word`.
bool NewWait(const SlotAndKernel& view, uint64_t word) {
  return static_cast<uint32_t>(view.slot.word) != kNotWaiting && view.slot.word != word;
}

}  // namespace

bool CollectThreads(const CollectFilter& filter, ThreadList* list) {
  if (RuntimeSandboxed()) return false;  // every report starts here: none under seccomp
  // A thread between clone() and its first instruction is in /proc/self/task but its record has
  // no tid yet (`unstarted`): it would pass for a thread the shim never saw. While there are
  // such, look again a few times, 1 ms apart, before taking unknown tasks for what they seem.
  int unknown_retries = 3;
  for (size_t slack = 64;;) {
    int32_t probe;
    size_t task_count = ListTasks(&probe, 0) + slack;
    size_t capacity = LiveRecordCount() + task_count + slack;
    size_t thread_bytes = sizeof(tl_thread) * capacity;
    size_t scratch_bytes = sizeof(int32_t) * (task_count + capacity);
    size_t bytes = thread_bytes + scratch_bytes;
    void* memory = MapBytes(bytes);
    if (memory == nullptr) return false;
    CopyContext context{static_cast<tl_thread*>(memory),
                        capacity,
                        0,
                        filter.include_self ? -1 : static_cast<int32_t>(gettid()),
                        &filter,
                        MonotonicNanos()};
    ForEachRecord(CopyRecord, &context);
    auto* tids = reinterpret_cast<int32_t*>(static_cast<char*>(memory) + thread_bytes);
    size_t listed = ListTasks(tids, task_count);
    const size_t known = context.count;
    if (context.count > capacity || listed > task_count ||
        !AddUnknownTasks(&context, tids, listed)) {
      munmap(memory, bytes);  // threads appeared while we looked: retry with more room
      slack *= 4;
      continue;
    }
    if (context.count > known && context.unstarted > 0 && unknown_retries-- > 0) {
      munmap(memory, bytes);
      SleepNanos(1'000'000);
      continue;
    }
    *list = ThreadList{context.threads, context.count, bytes, context.unstarted};
    return true;
  }
}

void ClassifyAndName(ThreadList* list) {
  const int64_t now_ns = MonotonicNanos();
  for (size_t i = 0; i < list->count; ++i) {
    tl_thread& thread = list->threads[i];
    if (thread.state == TL_STATE_FINISHED) continue;
    if (thread.tid > 0) ReadTaskName(thread.tid, thread.name, TL_NAME_LEN);
    if (thread.unwind.kind == TL_UNWIND_REGISTERS) continue;  // its own handler said where
    const bool was_hooked = thread.unwind.kind == TL_UNWIND_HOOK;
    if ((!was_hooked && thread.syscall_number != kNotClassified) || thread.tid <= 0) continue;
    SlotAndKernel view = ReadSlotAndKernel(thread.unwind.slot, thread.tid);
    if (!view.consistent) {
      // In and out of hooked waits faster than the slot and the kernel can be read together:
      // running, for all a report can say; the sampler and the unwinder look again.
      ForgetWait(&thread, thread.unwind.word);
      thread.syscall_number = -1;
      continue;
    }
    const SyscallState& kernel = view.kernel;
    const bool in_syscall = kernel.InSystemCall();
    const bool hooked = static_cast<uint32_t>(view.slot.word) != kNotWaiting;
    if (NewWait(view, thread.unwind.word)) {
      TakeWait(&thread, view.slot, now_ns);  // a wait begun since the records were copied
    } else if (!hooked && was_hooked) {
      ForgetWait(&thread, view.slot.word);  // it left the wait since
    }
    if (hooked) {
      // A slot that a cancellation or a longjmp left without closing its scope is stale: the
      // thread is elsewhere now. Its hook's frame then lies below the stack pointer the kernel
      // shows (anything the thread calls from a hook is deeper), or has been overwritten by
      // the calls made since (its return address is no longer the hook's), or the kernel shows
      // a system call that wait never makes (the frame may lie intact in a large frame that
      // nothing wrote since).
      bool stale =
          (kernel.known && !kernel.running && kernel.sp != 0 && thread.unwind.frame < kernel.sp) ||
          (in_syscall &&
           KernelContradictsSlot(thread.state, thread.unwind.callee, kernel.number)) ||
          !view.frame_read || view.frame_return_address != thread.unwind.return_address;
      if (!stale) {
        if (thread.state == TL_STATE_IO && in_syscall) thread.syscall_number = kernel.number;
        continue;
      }
      ForgetWait(&thread, view.slot.word);  // stale: a later look takes only a newer wait
    }
    thread.unwind.word = view.slot.word;
    thread.syscall_number = -1;
    if (in_syscall) ClassifyBySyscall(&thread, kernel);
  }
}

void ReleaseThreadList(ThreadList* list) {
  if (list->threads != nullptr) munmap(list->threads, list->mapped_bytes);
  *list = ThreadList{};
}

}  // namespace threadleak

namespace threadleak {

namespace {

// A thread the writer found gone from its wait may be back in one of the same kind (a loop of
// short sleeps, a worker around its queue): then it is unwound again from where it waits now.
// `deadline_ns`: how long, in all, the report waits for such threads to be back in a wait (one
// between two waits may be runnable but not yet scheduled on a loaded machine).
bool ReadyToUnwindAgain(tl_thread* thread, int64_t deadline_ns) {
  if (thread->stack.depth > 0 || thread->tid <= 0 || thread->stack_missing != TL_MISSING_MOVED) {
    return false;
  }
  tl_unwind_start& start = thread->unwind;
  if (start.kind == TL_UNWIND_SYSCALL) {
    // Caught between two waits, it is usually back in the next soon.
    SlotAndKernel view = ReadSlotAndKernel(start.slot, thread->tid);
    while (view.consistent && view.kernel.known && view.kernel.running &&
           MonotonicNanos() < deadline_ns) {
      SleepNanos(200'000);
      view = ReadSlotAndKernel(start.slot, thread->tid);
    }
    if (!view.consistent || !view.kernel.known || view.kernel.running) return false;
    if (NewWait(view, start.word)) {
      TakeWait(thread, view.slot, MonotonicNanos());  // in a hooked wait begun since
    } else if (view.kernel.number != start.syscall ||
               (thread->state == TL_STATE_FUTEX && view.kernel.first_argument != thread->object)) {
      return false;  // another wait than the one the report describes
    } else {
      start.sp = view.kernel.sp;
      start.pc = view.kernel.pc;
    }
  } else if (start.kind == TL_UNWIND_HOOK) {
    const SlotAndKernel view = ReadSlotAndKernel(start.slot, thread->tid);
    const tl_wait_slot& slot = view.slot;
    if (!view.consistent || static_cast<uint32_t>(slot.word) != thread->state ||
        slot.object != thread->object) {
      return false;
    }
    if (thread->state == TL_STATE_IO && slot.callee != start.callee) {
      // Another I/O call than at the first look: named as the kernel shows it now.
      thread->syscall_number = view.kernel.InSystemCall() ? view.kernel.number : -1;
    }
    start.word = slot.word;
    start.frame = slot.frame;
    start.callee = slot.callee;
    start.return_address = slot.return_address;
  } else {
    return false;
  }
  thread->stack_missing = TL_MISSING_UNKNOWN;
  return true;
}

// A thread found running between two waits: marked so (unwind.reserved, unused while it runs),
// with its wait slot kept, so that if the sampler does not catch it running it is unwound where
// it waits by then.
void NoteRunning(tl_thread* thread) {
  const uintptr_t slot = thread->unwind.slot;
  const uint64_t word = thread->unwind.word;
  thread->unwind = tl_unwind_start{};
  thread->unwind.reserved = 1;
  thread->unwind.slot = slot;
  thread->unwind.word = word;
  thread->state = TL_STATE_RUNNING;
  thread->object = 0;
  thread->blocked_ns = -1;
  thread->syscall_number = -1;
}

// The other way round: a thread NoteRunning saw that the sampler did not catch running, because
// it waits again (a worker around a short wait, on a loaded machine): in a hooked wait, or in a
// system call.
bool WaitsAgain(tl_thread* thread) {
  if (thread->stack.depth > 0 || thread->state != TL_STATE_RUNNING || thread->unwind.reserved == 0)
    return false;
  SlotAndKernel view = ReadSlotAndKernel(thread->unwind.slot, thread->tid);
  if (!view.consistent) return false;
  if (NewWait(view, thread->unwind.word)) {
    TakeWait(thread, view.slot, MonotonicNanos());
  } else if (view.kernel.InSystemCall()) {
    ForgetWait(thread, view.slot.word);
    ClassifyBySyscall(thread, view.kernel);
  } else {
    return false;
  }
  thread->stack_missing = TL_MISSING_UNKNOWN;
  return true;
}

// Every thread's stack, interrupting none but the running ones (stack_sampler.h): blocked ones
// are unwound by the writer, running ones sampled. A thread caught between two waits is looked at
// again, a few passes at most, so a worker around a short wait is seen in one or the other.
void CaptureStacks(ReportWriter* writer, ThreadList* list) {
  tl_thread* threads = list->threads;
  bool unwound = writer->Unwind(threads, list->count);
  const int64_t retry_deadline_ns = MonotonicNanos() + kMovedThreadsWaitNs;
  for (int pass = 0; pass < 8; ++pass) {
    bool again = false;
    for (size_t i = 0; unwound && i < list->count; ++i) {
      tl_thread& thread = threads[i];
      if (thread.stack.depth > 0 || thread.unwind.kind == TL_UNWIND_NONE || thread.tid <= 0) {
        continue;
      }
      if (ReadyToUnwindAgain(&thread, retry_deadline_ns)) {
        again = true;
        continue;
      }
      // It left its wait while it was being unwound (a busy event loop): if it runs user code
      // now, that is its state, and the sampler may read where it runs.
      SyscallState kernel = ReadSyscallState(thread.tid);
      if (kernel.known && kernel.running) NoteRunning(&thread);
    }
    SampleRunningStacks(threads, list->count);
    bool between = false;  // threads seen neither running by the sampler nor waiting
    for (size_t i = 0; unwound && i < list->count; ++i) {
      tl_thread& thread = threads[i];
      if (WaitsAgain(&thread)) {
        again = true;
      } else if (thread.unwind.reserved != 0 && thread.stack.depth == 0) {
        between = true;
      }
    }
    if (again) {
      writer->Unwind(threads, list->count);
    } else if (!between || MonotonicNanos() >= retry_deadline_ns) {
      break;
    } else {
      SleepNanos(1'000'000);  // a runnable thread the machine has not given a CPU yet
    }
  }
  for (size_t i = 0; i < list->count; ++i) {
    if (threads[i].unwind.reserved != 0) threads[i].unwind = tl_unwind_start{};
  }
  for (size_t i = 0; i < list->count; ++i) {
    tl_thread& thread = threads[i];
    // A futex wait called from libc's pthread_mutex_lock is a lock's wait (lock_waits.h).
    if (thread.state == TL_STATE_FUTEX && thread.unwind.kind == TL_UNWIND_SYSCALL) {
      for (uint32_t f = 1; f < thread.stack.depth && f < 3; ++f) {
        if (IsInMutexLock(thread.stack.pcs[f])) thread.state = TL_STATE_MUTEX;
      }
    }
    // Without the writer, a thread in a system call shows at least the kernel's pc.
    if (!unwound && thread.stack.depth == 0 && thread.unwind.kind == TL_UNWIND_SYSCALL) {
      thread.stack.kind = TL_STACK_INTERRUPTED;
      thread.stack.depth = 1;
      thread.stack.pcs[0] = thread.unwind.pc;
    }
    DropToolFrames(&thread.stack);
  }
}

}  // namespace

int ReportCollected(uint32_t trigger, uint32_t kind, ThreadList* list, int fd, int copy_fd,
                    int fatal_signal) {
  // The writer first: it starts up while nothing has been read yet, so the look at /proc that
  // ClassifyAndName takes is followed at once by the unwind it guides.
  // Where the program's frames on this thread's stack begin: below, the report's own. A thread
  // dumping before its death runs the report on a stack of threadleak's (fatal_signals.cc): its
  // program frames begin where the signal interrupted it.
  auto program_frames_from = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const auto self = static_cast<int32_t>(CurrentTid());
  for (size_t i = 0; i < list->count; ++i) {
    const tl_thread& thread = list->threads[i];
    if (thread.tid == self && (thread.flags & TL_THREAD_DYING) && thread.unwind.sp != 0) {
      program_frames_from = thread.unwind.sp;
    }
  }
  ReportWriter writer;
  writer.Start(trigger, kind, list->count, list->threads, list->mapped_bytes, program_frames_from,
               fatal_signal);  // if it cannot start, the report is the plain one
  ClassifyAndName(list);
  CaptureStacks(&writer, list);  // before the blockers: a lock's wait is known from its stack
  ReadBlockers(list, CurrentTid());
  ConfirmBlockers(list);
  return WriteReport(&writer, kind, list->threads, list->count, fd, copy_fd);
}

}  // namespace threadleak
