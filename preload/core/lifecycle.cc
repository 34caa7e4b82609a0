#include "preload/core/lifecycle.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <threads.h>
#include <unistd.h>

#include <atomic>

#include "preload/capture/creation_stack.h"
#include "preload/core/guard.h"
#include "preload/core/object_touches.h"
#include "preload/core/process_identity.h"
#include "preload/test_frameworks/gtest_state.h"

namespace threadleak {
namespace {

constinit pthread_key_t g_exit_key = 0;
using Listener = void (*)();
constinit Listener g_last_thread_ended = nullptr;
// Written by every creator and every ending thread, on other CPUs: a cache line of its own
// (alignment alone let the linker put another file's variable, read on every create, beside it).
struct alignas(64) ProgramThreadCounter {
  std::atomic<int> count{1};  // main counts until it ends (not by exit)
};
static_assert(sizeof(ProgramThreadCounter) == 64);
constinit ProgramThreadCounter g_program_threads_line;
constinit std::atomic<int>& g_program_threads = g_program_threads_line.count;
constinit std::atomic<bool> g_main_exited{false};

// The program's keys that have a destructor, one bit per key index. glibc runs a thread's key
// destructors in rounds, each in index order: only a key above the exit key's index can run its
// destructor after the exit key's in a round, and only then does the exit key need a second.
constexpr unsigned kKeyWords = (PTHREAD_KEYS_MAX + 63) / 64;
constinit std::atomic<uint64_t> g_destructor_keys[kKeyWords] = {};
// One past the highest word that ever held a bit: each thread's exit looks no further (programs
// use a few low keys; the whole map is 16 words).
constinit std::atomic<unsigned> g_destructor_key_words{0};
// A key index beyond PTHREAD_KEYS_MAX (glibc's limit; another libc's could differ): assume it is
// later.
constinit std::atomic<bool> g_destructor_key_out_of_range{false};

// Thread names without a system call. A report names a thread's creator, and a finished
// thread, by names read while they ran: a creator's when it creates, a thread's own when it
// ends. prctl(PR_GET_NAME) costs ~0.3 us here, and reading both names cost a create+join 4-7 %
// (bench/: paired runs with and without the two calls). A name changes only when the program
// renames a thread, and each rename the hooks see moves this generation on: a name a thread read
// at generation G is still its name while the generation is G. A new thread starts with its
// creator's name (the kernel copies it at clone), so it inherits the creator's name and
// generation. Starts at 1: a record's 0 is "not read".
constinit std::atomic<uint64_t> g_rename_generation{1};

// Makes `own` (the calling thread's record) hold its current name.
void MakeOwnNameCurrent(ThreadRecord* own) {
  for (;;) {
    // Read before the name: a rename that the read below misses moves the generation on after it.
    const uint64_t generation = g_rename_generation.load(std::memory_order_acquire);
    if (own->name_generation != generation) {
      prctl(PR_GET_NAME, own->name);
      own->name_generation = generation;
    }
    // A signal handler on this thread may have renamed it since the load above, and the name
    // kept may be older than that rename: looked at again until no rename came in between.
    if (g_rename_generation.load(std::memory_order_acquire) == generation) return;
  }
}

// The calling thread's current name into `out`; returns the generation it is current for.
uint64_t ReadOwnName(char (&out)[TL_NAME_LEN]) {
  if (ThreadRecord* own = t_record; own != nullptr) {
    MakeOwnNameCurrent(own);
    memcpy(out, own->name, TL_NAME_LEN);
    return own->name_generation;
  }
  const uint64_t generation = g_rename_generation.load(std::memory_order_acquire);
  prctl(PR_GET_NAME, out);
  return generation;
}

bool DestructorKeyAfterExitKey() {
  if (g_destructor_key_out_of_range.load(std::memory_order_relaxed)) return true;
  const unsigned first = g_exit_key + 1;
  const unsigned words = g_destructor_key_words.load(std::memory_order_relaxed);
  for (unsigned word = first / 64; word < words; ++word) {
    uint64_t bits = g_destructor_keys[word].load(std::memory_order_relaxed);
    if (word == first / 64) bits &= ~uint64_t{0} << (first % 64);
    if (bits != 0) return true;
  }
  return false;
}

void ProgramThreadEnded() {
  if (g_program_threads.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
      g_main_exited.load(std::memory_order_acquire) && g_last_thread_ended != nullptr) {
    g_last_thread_ended();
  }
}

// The exit key's destructor.
void OnThreadExit(void* value) {
  auto* record = static_cast<ThreadRecord*>(value);
  // Later keys' destructors run after this one in the same round (keys run in index order): a
  // thread blocked in one of them is alive. When such a key exists, this destructor is re-armed
  // once and marks the end in a second round, after every other key's first-round destructor.
  // Without one the first round is the last word (a second costs glibc a scan of every key). Left
  // out: a destructor that sets its key again and blocks in a later round (before, that was
  // covered when the key sat below the exit key).
  if (++record->exit_rounds < 2 && DestructorKeyAfterExitKey()) {
    pthread_setspecific(g_exit_key, record);
    return;
  }
  ToolScope scope;
  MakeOwnNameCurrent(record);
  // A wait a cancellation unwound through ends here; the sequence goes on (a new wait would have
  // changed it anyway).
  uint64_t word = record->wait.word.load(std::memory_order_relaxed);
  record->wait.word.store((word & ~uint64_t{0xffff'ffff}) | kNotWaiting, std::memory_order_release);
  t_record = nullptr;
  // Main ends this way only without exit(): pthread_exit, thrd_exit, or a cancellation.
  if (record->lifecycle.load(std::memory_order_relaxed) & kMainThread) {
    g_main_exited.store(true, std::memory_order_release);
  }
  MarkLifecycle(record, kFinished);
  ProgramThreadEnded();
}

// The creation stack, without the tool's own frames (remembered stacks are recognised without
// a walk: capture/creation_stack.h).
void RecordCreationStack(ThreadRecord* record) {
  record->creation_depth =
      static_cast<uint32_t>(CaptureCreationStack(record->creation, TL_MAX_FRAMES));
}

// The GoogleTest test the new thread belongs to: the one running now; when none runs, its
// creator's (a thread a test started still works for that test, whenever it creates one);
// otherwise none: a suite-level thread. The stack-based guess is the report's fallback.
void RecordTest(ThreadRecord* record) {
  const GoogleTestNow now = ReadGoogleTestNow();
  const ThreadRecord* creator = t_record;
  if (now.kind == GoogleTestNow::kTest) {
    record->test_source = TL_TEST_RUNNING;
    memcpy(record->test_name, now.name, TL_TEST_NAME_LEN);
  } else if (creator != nullptr && (creator->test_source == TL_TEST_RUNNING ||
                                    creator->test_source == TL_TEST_INHERITED)) {
    record->test_source = TL_TEST_INHERITED;
    memcpy(record->test_name, creator->test_name, TL_TEST_NAME_LEN);
  } else if (now.kind == GoogleTestNow::kNoTest) {
    record->test_source = TL_TEST_NONE;
  } else if (now.kind == GoogleTestNow::kNoTestUnconfirmed) {
    record->test_source = kTestNoneUnconfirmed;
  }
}

// What only the child knows, before its start routine runs.
void ThreadStarts(ThreadRecord* record) {
  record->tid.store(OwnTidFromDescriptor(), std::memory_order_release);  // no system call
  t_record = record;
  // Published by the creator too, when pthread_create returns; this covers a join or detach
  // that races with that return.
  PublishHandle(record, pthread_self());
  pthread_setspecific(g_exit_key, record);
}

}  // namespace

void StartThreadLifecycle(void (*last_thread_ended)()) {
  g_last_thread_ended = last_thread_ended;
  pthread_key_create(&g_exit_key, OnThreadExit);
  NoteKeyCreated(g_exit_key, true);  // as the hook does when the call reaches it (not in tests)
}

void RegisterMainThread() {
  // Constructors run on the main thread; a lazy start from another thread skips this.
  if (gettid() != getpid()) return;
  ThreadRecord* record = AllocateRecord();
  if (record == nullptr) return;
  record->tid.store(gettid(), std::memory_order_relaxed);
  record->lifecycle.store(kMainThread | kCreatorReturned, std::memory_order_relaxed);
  PublishHandle(record, pthread_self());
  t_record = record;
  // Its destructor runs if main ends without exit() (pthread_exit, thrd_exit, cancellation).
  pthread_setspecific(g_exit_key, record);
}

ThreadRecord* RecordBeforeCreate(const pthread_attr_t* attr, void* (*start_routine)(void*),
                                 void* argument) {
  ThreadRecord* record = AllocateRecord();
  if (record == nullptr) return nullptr;
  record->creation_sequence = g_creation_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  record->start_routine = start_routine;
  record->start_arg = argument;
  {
    ToolScope scope;
    RecordCreationStack(record);
    record->creator_tid = CurrentTid();  // cached: gettid() is a system call
    // The child's name is the creator's until it is renamed.
    record->name_generation = ReadOwnName(record->creator_name);
    memcpy(record->name, record->creator_name, TL_NAME_LEN);
    RecordTest(record);
    int detach_state = PTHREAD_CREATE_JOINABLE;
    if (attr != nullptr && pthread_attr_getdetachstate(attr, &detach_state) == 0 &&
        detach_state == PTHREAD_CREATE_DETACHED) {
      record->lifecycle.fetch_or(kDetached, std::memory_order_relaxed);
    }
  }
  // Counted before it runs: it may end before its creator's call returns.
  g_program_threads.fetch_add(1, std::memory_order_relaxed);
  return record;
}

void* StartTrampoline(void* argument) {
  auto* record = static_cast<ThreadRecord*>(argument);
  ThreadStarts(record);
  return record->start_routine(record->start_arg);
}

// Created through libc's thrd_create, so glibc keeps its own C11 bookkeeping (the int result
// thrd_join reads).
int C11StartTrampoline(void* argument) {
  auto* record = static_cast<ThreadRecord*>(argument);
  ThreadStarts(record);
  auto start = reinterpret_cast<thrd_start_t>(reinterpret_cast<void (*)()>(record->start_routine));
  return start(record->start_arg);
}

void ThreadCreateFailed(ThreadRecord* record) {
  g_program_threads.fetch_sub(1, std::memory_order_relaxed);
  ReleaseRecord(record);
}

void NoteThreadsRenamed() {
  g_rename_generation.fetch_add(1, std::memory_order_release);
}

void NoteKeyCreated(pthread_key_t key, bool has_destructor) {
  if (!has_destructor) return;
  if (key >= kKeyWords * 64) {
    g_destructor_key_out_of_range.store(true, std::memory_order_relaxed);
    return;
  }
  // A thread that can hold a value of this key learned the key after this note (from this thread,
  // or through the program's own synchronisation), so it sees both the bit and the bound.
  g_destructor_keys[key / 64].fetch_or(uint64_t{1} << (key % 64), std::memory_order_relaxed);
  const unsigned needed = key / 64 + 1;
  unsigned words = g_destructor_key_words.load(std::memory_order_relaxed);
  while (words < needed &&
         !g_destructor_key_words.compare_exchange_weak(words, needed, std::memory_order_relaxed)) {
  }
}

void NoteKeyDeleted(pthread_key_t key) {
  if (key >= kKeyWords * 64) return;
  g_destructor_keys[key / 64].fetch_and(~(uint64_t{1} << (key % 64)), std::memory_order_relaxed);
}

ThreadRecord* RecordOf(pthread_t thread) {
  if (t_record != nullptr && pthread_equal(thread, pthread_self())) return t_record;
  return FindRecord(thread);
}

void ThreadDetached(ThreadRecord* record) {
  if (record != nullptr) MarkLifecycle(record, kDetached);
}

void NoteAltStack(const stack_t& stack) {
  ThreadRecord* record = t_record;
  if (record == nullptr) return;
  bool disabled = (stack.ss_flags & SS_DISABLE) != 0;
  record->altstack_size.store(disabled ? 0 : stack.ss_size, std::memory_order_relaxed);
  record->altstack_low.store(disabled ? 0 : reinterpret_cast<uintptr_t>(stack.ss_sp),
                             std::memory_order_relaxed);
}

int ProgramThreadCount() {
  return g_program_threads.load(std::memory_order_acquire);
}

void LifecycleBeforeFork() {
  RegistryBeforeFork();
}

void LifecycleAfterForkInParent() {
  RegistryAfterForkInParent();
}

void LifecycleAfterForkInChild() {
  RegistryAfterForkInChild(t_record, static_cast<int32_t>(gettid()));
  if (t_record != nullptr) {
    // The forking thread is the child's main thread now.
    t_record->lifecycle.fetch_or(kMainThread, std::memory_order_relaxed);
  }
  g_program_threads.store(1, std::memory_order_relaxed);  // the forking thread, alone
  g_main_exited.store(false, std::memory_order_relaxed);
  // Another thread may have renamed the forking one and not noted it yet: the child would keep
  // the name from before, and its noter is gone. Every name is read again.
  NoteThreadsRenamed();
}

}  // namespace threadleak
