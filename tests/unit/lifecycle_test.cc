// The thread lifecycle core (preload/core/lifecycle.h) driven as the hooks drive it, without
// preloading: real threads started through its trampoline with libc's own pthread_create, joined
// and detached with libc's, and fake handles where no thread is needed. Each test names the
// recording it pins; a lifecycle event recorded wrong (a join, a detach, an exit round, the
// creator's return, a fork) leaves a record live that must go, or drops one that must stay.
#include "preload/core/lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "preload/core/guard.h"
#include "preload/core/registry.h"
#include "preload/core/thread_record.h"
#include "tests/unit/registry_probe.h"

namespace threadleak {
namespace {

// --- the process's side: the exit key, made once as start-up makes it ------------------------

std::atomic<int> g_last_thread_ended_calls{0};
// A forked child's pipe: the call is written there and ends the child (no exit handlers of
// this test program run in it).
int g_last_thread_ended_fd = -1;

void LastThreadEnded() {
  g_last_thread_ended_calls.fetch_add(1);
  if (g_last_thread_ended_fd >= 0) {
    const char line[] = "last thread ended\n";
    (void)!write(g_last_thread_ended_fd, line, sizeof line - 1);
    _exit(0);
  }
}

class ThreadLifecycle : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const bool started = [] {
      StartThreadLifecycle(LastThreadEnded);
      return true;
    }();
    (void)started;
  }
};

// --- helpers ---------------------------------------------------------------------------------

template <typename Predicate>
bool WaitUntil(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

bool Has(const ThreadRecord* record, uint32_t bits) {
  return (record->lifecycle.load() & bits) == bits;
}

// Gone from the kernel, not only finished in the tool's eyes (the exit key runs before the
// thread ends): a detach of a thread still ending can race with its end in glibc 2.36.
bool TaskGone(int32_t tid) {
  return syscall(SYS_tgkill, getpid(), tid, 0) == -1 && errno == ESRCH;
}

pthread_t LifecycleHandle(uintptr_t n) {
  return static_cast<pthread_t>(0x7e0000001000 + n * 0x1000);
}

// A program thread: says who it is, then waits until released.
struct Child {
  std::atomic<int32_t> tid{0};
  std::atomic<ThreadRecord*> own_record{nullptr};
  std::atomic<bool> released{false};
  const char* name = "lifecycle-kid";  // null: not renamed
  bool rename_seen = true;             // false: renamed behind the hooks' back
};

void* ChildMain(void* argument) {
  auto* child = static_cast<Child*>(argument);
  if (child->name != nullptr) {
    pthread_setname_np(pthread_self(), child->name);
    if (child->rename_seen) NoteThreadsRenamed();  // as the pthread_setname_np hook does
  }
  child->own_record.store(t_record);
  child->tid.store(static_cast<int32_t>(gettid()));
  child->tid.notify_all();
  child->released.wait(false);
  return nullptr;
}

void Release(Child& child) {
  child.released.store(true);
  child.released.notify_all();
}

// What the pthread_create hook does, from a frame of its own: the record, then libc's create
// with the trampoline. The caller's return address is where the creation stack must lead.
__attribute__((noinline)) ThreadRecord* CreateThroughCore(pthread_t* thread,
                                                          const pthread_attr_t* attr, Child* child,
                                                          void** return_address = nullptr) {
  // Not backtrace(): under AddressSanitizer its interceptor is a frame of its own.
  if (return_address != nullptr) *return_address = __builtin_return_address(0);
  ThreadRecord* record = RecordBeforeCreate(attr, ChildMain, child);
  if (record == nullptr) return nullptr;
  if (pthread_create(thread, attr, StartTrampoline, record) != 0) {
    ThreadCreateFailed(record);
    return nullptr;
  }
  asm volatile("" ::: "memory");  // no tail call: this frame stays on the creation stack
  return record;
}

// Runs `start(argument)` on a thread created through the core, to its end, and joins it.
void RunThroughCoreToTheEnd(void* (*start)(void*), void* argument) {
  ThreadRecord* record = RecordBeforeCreate(nullptr, start, argument);
  ASSERT_NE(record, nullptr);
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, StartTrampoline, record), 0);
  ThreadCreatorReturned(record, thread);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  ThreadJoined(record, thread);
}

// --- creation, start, exit, join ---------------------------------------------------------------

TEST_F(ThreadLifecycle, CreateStartExitJoinRecordsEachStepAndReleasesTheRecord) {
  const int threads_before = ProgramThreadCount();
  const uint64_t sequence_before = g_creation_sequence.load();
  char creator_name[16] = {};
  prctl(PR_GET_NAME, creator_name);
  Child child;
  pthread_t thread;
  void* creator_caller = nullptr;
  ThreadRecord* record = CreateThroughCore(&thread, nullptr, &child, &creator_caller);
  ASSERT_NE(record, nullptr);

  // Before create: fixed by the creator.
  EXPECT_EQ(record->creation_sequence, sequence_before + 1);
  EXPECT_EQ(record->creator_tid, static_cast<int32_t>(gettid()));
  EXPECT_STREQ(record->creator_name, creator_name);
  EXPECT_EQ(record->start_routine, &ChildMain);
  EXPECT_EQ(record->start_arg, &child);
  EXPECT_FALSE(Has(record, kDetached));
  EXPECT_EQ(record->test_source, static_cast<uint32_t>(TL_TEST_RUNNING));
  EXPECT_STREQ(record->test_name,
               "ThreadLifecycle.CreateStartExitJoinRecordsEachStepAndReleasesTheRecord");
  const uintptr_t* creation = record->creation;
  const uintptr_t* creation_end = creation + record->creation_depth;
  EXPECT_NE(std::find(creation, creation_end, reinterpret_cast<uintptr_t>(creator_caller)),
            creation_end)
      << "the creation stack leads to the creator's caller";
  EXPECT_EQ(ProgramThreadCount(), threads_before + 1);

  // Child start: what only the child knows, published before its start routine runs.
  child.tid.wait(0);
  EXPECT_EQ(child.own_record.load(), record);
  EXPECT_EQ(record->tid.load(), child.tid.load());
  EXPECT_EQ(FindRecord(thread), record) << "the child publishes its handle itself";

  ThreadCreatorReturned(record, thread);
  EXPECT_TRUE(Has(record, kCreatorReturned));
  EXPECT_FALSE(Has(record, kFinished));

  // Exit: finished, named, but kept for the join (and a report) until the join.
  ThreadRecord* looked_up_before = FindRecord(thread);
  Release(child);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  EXPECT_TRUE(Has(record, kFinished));
  EXPECT_EQ(record->exit_rounds, 1) << "no key with a destructor after the exit key: one round";
  EXPECT_STREQ(record->name, "lifecycle-kid");
  EXPECT_EQ(record->wait.State(), kNotWaiting);
  EXPECT_TRUE(IsLive(record));
  EXPECT_EQ(ProgramThreadCount(), threads_before);

  ThreadJoined(looked_up_before, thread);
  EXPECT_FALSE(IsLive(record));
  EXPECT_EQ(FindRecord(thread), nullptr);
  EXPECT_TRUE(RecentlyExited(child.tid.load()));
}

// --- names -------------------------------------------------------------------------------------

// What a thread with a record sees of its own name through the creations it makes.
struct CreatorNames {
  std::string first, first_child, after_unseen_rename, after_seen_rename;
};

void* CreateAroundRenames(void* argument) {
  auto* names = static_cast<CreatorNames*>(argument);
  auto creator_name_of_a_create = [] {
    ThreadRecord* record = RecordBeforeCreate(nullptr, ChildMain, nullptr);
    if (record == nullptr) return std::pair<std::string, std::string>{"(no record)", ""};
    std::pair<std::string, std::string> names{record->creator_name, record->name};
    ThreadCreateFailed(record);
    return names;
  };
  pthread_setname_np(pthread_self(), "before");
  NoteThreadsRenamed();
  std::tie(names->first, names->first_child) = creator_name_of_a_create();
  prctl(PR_SET_NAME, "unseen");  // no note: the name read before is still taken as current
  names->after_unseen_rename = creator_name_of_a_create().first;
  NoteThreadsRenamed();
  names->after_seen_rename = creator_name_of_a_create().first;
  return nullptr;
}

// A creator's name is read again only after a rename was noted: in between, no system call.
TEST_F(ThreadLifecycle, ACreatorsNameIsReadAgainOnlyAfterARename) {
  CreatorNames names;
  ASSERT_NO_FATAL_FAILURE(RunThroughCoreToTheEnd(CreateAroundRenames, &names));
  EXPECT_EQ(names.first, "before");
  EXPECT_EQ(names.first_child, "before") << "a new thread starts with its creator's name";
  EXPECT_EQ(names.after_unseen_rename, "before") << "read again without a rename noted";
  EXPECT_EQ(names.after_seen_rename, "unseen");
}

// A thread's name at its end is read only if a rename was noted since it last knew it: one that
// was never renamed ends with its creator's name, inherited without a read.
TEST_F(ThreadLifecycle, AThreadsNameAtItsEndIsReadOnlyAfterANotedRename) {
  char creator_name[16] = {};
  prctl(PR_GET_NAME, creator_name);
  for (bool seen : {true, false}) {
    Child child;
    child.name = "renamed-kid";
    child.rename_seen = seen;
    pthread_t thread;
    ThreadRecord* record = CreateThroughCore(&thread, nullptr, &child);
    ASSERT_NE(record, nullptr);
    ThreadCreatorReturned(record, thread);
    ThreadRecord* looked_up_before = FindRecord(thread);
    child.tid.wait(0);
    Release(child);
    ASSERT_EQ(pthread_join(thread, nullptr), 0);
    EXPECT_STREQ(record->name, seen ? "renamed-kid" : creator_name) << "rename seen: " << seen;
    ThreadJoined(looked_up_before, thread);
  }
}

// A pthread_t is reused as soon as a join returns: a record found only after the join is that
// thread's only if it has finished; a live thread found there is a new one, not joined.
TEST_F(ThreadLifecycle, AJoinCountsARecordFoundAfterItOnlyIfThatThreadFinished) {
  ThreadRecord* record = RecordBeforeCreate(nullptr, ChildMain, nullptr);
  ASSERT_NE(record, nullptr);
  ThreadCreatorReturned(record, LifecycleHandle(1));
  ThreadJoined(nullptr, LifecycleHandle(1));
  EXPECT_FALSE(Has(record, kJoined));
  EXPECT_TRUE(IsLive(record));

  MarkLifecycle(record, kFinished);  // as its exit key's last round does
  ThreadJoined(nullptr, LifecycleHandle(1));
  EXPECT_FALSE(IsLive(record));
  EXPECT_EQ(FindRecord(LifecycleHandle(1)), nullptr);
}

// A join (or detach) can come before pthread_create has returned to the creator: the record
// must outlive the thread until then, when the creator publishes the handle once more.
TEST_F(ThreadLifecycle, AJoinBeforeTheCreatorReturnsKeepsTheRecordUntilItDoes) {
  Child child;
  pthread_t thread;
  ThreadRecord* record = CreateThroughCore(&thread, nullptr, &child);
  ASSERT_NE(record, nullptr);
  child.tid.wait(0);
  ThreadRecord* looked_up_before = FindRecord(thread);
  ASSERT_EQ(looked_up_before, record) << "the child published its handle";
  Release(child);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  ThreadJoined(looked_up_before, thread);
  EXPECT_TRUE(Has(record, kFinished | kJoined));
  EXPECT_TRUE(IsLive(record)) << "released before the creator returned";

  ThreadCreatorReturned(record, thread);
  EXPECT_FALSE(IsLive(record));
}

// --- detach --------------------------------------------------------------------------------------

TEST_F(ThreadLifecycle, DetachWhileRunningReleasesTheRecordWhenTheThreadEnds) {
  Child child;
  pthread_t thread;
  ThreadRecord* record = CreateThroughCore(&thread, nullptr, &child);
  ASSERT_NE(record, nullptr);
  ThreadCreatorReturned(record, thread);
  child.tid.wait(0);
  ThreadRecord* target = RecordOf(thread);
  ASSERT_EQ(target, record);
  ASSERT_EQ(pthread_detach(thread), 0);
  ThreadDetached(target);
  EXPECT_TRUE(Has(record, kDetached));
  EXPECT_TRUE(IsLive(record)) << "still running";

  Release(child);
  EXPECT_TRUE(WaitUntil([&] { return !IsLive(record); }));
}

TEST_F(ThreadLifecycle, DetachAfterTheThreadFinishedReleasesTheRecordAtOnce) {
  Child child;
  pthread_t thread;
  ThreadRecord* record = CreateThroughCore(&thread, nullptr, &child);
  ASSERT_NE(record, nullptr);
  ThreadCreatorReturned(record, thread);
  child.tid.wait(0);
  const int32_t tid = child.tid.load();
  Release(child);
  ASSERT_TRUE(WaitUntil([&] { return TaskGone(tid); }));
  EXPECT_TRUE(Has(record, kFinished));
  EXPECT_TRUE(IsLive(record)) << "finished, not yet joined or detached";

  ThreadRecord* target = RecordOf(thread);
  ASSERT_EQ(target, record);
  ASSERT_EQ(pthread_detach(thread), 0);
  ThreadDetached(target);
  EXPECT_FALSE(IsLive(record));
}

TEST_F(ThreadLifecycle, ACreatedDetachedThreadIsReleasedWhenItEnds) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  Child child;
  pthread_t thread;
  ThreadRecord* record = CreateThroughCore(&thread, &attr, &child);
  pthread_attr_destroy(&attr);
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE(Has(record, kDetached)) << "from its attributes";
  ThreadCreatorReturned(record, thread);
  child.tid.wait(0);
  EXPECT_TRUE(IsLive(record));
  Release(child);
  EXPECT_TRUE(WaitUntil([&] { return !IsLive(record); }));
}

// --- create failure
// -------------------------------------------------------------------------------

TEST_F(ThreadLifecycle, AFailedCreateReleasesTheRecordAndTheCount) {
  const size_t live_before = LiveRecordCount();
  const int threads_before = ProgramThreadCount();
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, size_t{1} << 46), 0);  // 64 TiB: no mmap gives it
  ThreadRecord* record = RecordBeforeCreate(&attr, ChildMain, nullptr);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(LiveRecordCount(), live_before + 1);
  EXPECT_EQ(ProgramThreadCount(), threads_before + 1);
  pthread_t thread;
  ASSERT_NE(pthread_create(&thread, &attr, StartTrampoline, record), 0);
  pthread_attr_destroy(&attr);
  ThreadCreateFailed(record);
  EXPECT_FALSE(IsLive(record));
  EXPECT_EQ(LiveRecordCount(), live_before);
  EXPECT_EQ(ProgramThreadCount(), threads_before);
}

// --- the exit key's rounds ---------------------------------------------------------------------

// A key made and noted as the hooks do, deleted and forgotten at the end of the scope (so that a
// failed assertion leaves no key behind for the next test).
struct NotedKey {
  explicit NotedKey(void (*destructor)(void*)) {
    made = pthread_key_create(&key, destructor) == 0;
    if (made) NoteKeyCreated(key, destructor != nullptr);
  }
  ~NotedKey() {
    if (!made) return;
    NoteKeyDeleted(key);
    pthread_key_delete(key);
  }
  pthread_key_t key = 0;
  bool made = false;
};

std::atomic<bool> g_in_destructor{false};
std::atomic<bool> g_destructor_released{false};

void BlockingDestructor(void*) {
  g_in_destructor.store(true);
  g_in_destructor.notify_all();
  g_destructor_released.wait(false);
}

void* ThreadWithABlockingKeyDestructor(void* key) {
  pthread_setspecific(*static_cast<pthread_key_t*>(key), key);
  return nullptr;
}

// A key made after the exit key has its destructor run after the exit key's in each round: a
// thread blocked there is alive, and the exit key's second round marks the end only after it.
TEST_F(ThreadLifecycle, AThreadBlockedInALaterKeyDestructorIsNotFinished) {
  g_in_destructor.store(false);
  g_destructor_released.store(false);
  NotedKey blocking(BlockingDestructor);
  ASSERT_TRUE(blocking.made);
  const int threads_before = ProgramThreadCount();
  ThreadRecord* record =
      RecordBeforeCreate(nullptr, ThreadWithABlockingKeyDestructor, &blocking.key);
  ASSERT_NE(record, nullptr);
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, nullptr, StartTrampoline, record), 0);
  ThreadCreatorReturned(record, thread);

  g_in_destructor.wait(false);
  EXPECT_EQ(record->exit_rounds, 1) << "the exit key's first round ran, and re-armed it";
  EXPECT_FALSE(Has(record, kFinished)) << "blocked in a destructor: alive";
  EXPECT_EQ(ProgramThreadCount(), threads_before + 1);

  g_destructor_released.store(true);
  g_destructor_released.notify_all();
  ThreadRecord* looked_up_before = FindRecord(thread);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  EXPECT_TRUE(Has(record, kFinished));
  EXPECT_EQ(ProgramThreadCount(), threads_before);
  ThreadJoined(looked_up_before, thread);
  EXPECT_FALSE(IsLive(record));
}

void* SetsTheKeyIfAny(void* key) {
  if (key != nullptr) pthread_setspecific(*static_cast<pthread_key_t*>(key), key);
  return nullptr;
}

// The exit rounds a thread took, read once it has finished (its record lives until the join).
int ExitRoundsOfAThread(pthread_key_t* key_it_sets) {
  ThreadRecord* record = RecordBeforeCreate(nullptr, SetsTheKeyIfAny, key_it_sets);
  if (record == nullptr) return -1;
  pthread_t thread;
  if (pthread_create(&thread, nullptr, StartTrampoline, record) != 0) return -1;
  ThreadCreatorReturned(record, thread);
  if (!WaitUntil([&] { return Has(record, kFinished); })) return -1;
  int rounds = record->exit_rounds;
  ThreadRecord* looked_up_before = FindRecord(thread);
  if (pthread_join(thread, nullptr) != 0) return -1;
  ThreadJoined(looked_up_before, thread);
  return rounds;
}

// A second round of every key costs glibc a scan on each thread's exit: it is asked for only
// while a key with a destructor comes after the exit key. A key without one, or one deleted,
// does not count.
TEST_F(ThreadLifecycle, TheExitKeyTakesASecondRoundOnlyForALaterKeyWithADestructor) {
  // The exit key's own bit is set (StartThreadLifecycle notes it, as the hook does): a thread
  // with no later key still takes one round.
  NotedKey plain(nullptr);
  ASSERT_TRUE(plain.made);
  {
    NotedKey deleted([](void*) {});
    ASSERT_TRUE(deleted.made);
  }
  EXPECT_EQ(ExitRoundsOfAThread(&plain.key), 1);

  static std::atomic<int> destructor_calls;
  destructor_calls = 0;
  {
    NotedKey with_destructor([](void*) { destructor_calls.fetch_add(1); });
    ASSERT_TRUE(with_destructor.made);
    EXPECT_EQ(ExitRoundsOfAThread(&with_destructor.key), 2);
    EXPECT_EQ(ExitRoundsOfAThread(nullptr), 2)
        << "the key exists, whether this thread set it or not";
    EXPECT_EQ(destructor_calls.load(), 1);
  }
  EXPECT_EQ(ExitRoundsOfAThread(nullptr), 1) << "deleted: one round again";
}

// The map is looked at only as far as its highest word with a bit: a key with a destructor in a
// later word (index 128 or more) still asks for the second round.
TEST_F(ThreadLifecycle, ALaterKeyWithADestructorCountsInAHigherWordOfTheMap) {
  std::vector<std::unique_ptr<NotedKey>> plain_keys;
  while (plain_keys.empty() || plain_keys.back()->key < 128) {
    plain_keys.push_back(std::make_unique<NotedKey>(nullptr));
    ASSERT_TRUE(plain_keys.back()->made);
  }
  EXPECT_EQ(ExitRoundsOfAThread(nullptr), 1) << "keys without destructors";
  NotedKey with_destructor([](void*) {});
  ASSERT_TRUE(with_destructor.made);
  ASSERT_GE(with_destructor.key, 128u);
  EXPECT_EQ(ExitRoundsOfAThread(nullptr), 2);
}

// --- main thread and fork, each in a child process -------------------------------------------

// Runs `body` in a forked child (fork as the shim does it: the registry held across), and
// returns what it wrote to `fd` and how it ended.
template <typename Body>
std::string InChild(Body body, int* status) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return "pipe failed";
  fflush(nullptr);
  LifecycleBeforeFork();
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    LifecycleAfterForkInChild();
    body(pipe_fds[1]);
    _exit(0);
  }
  LifecycleAfterForkInParent();
  close(pipe_fds[1]);
  std::string output;
  char buffer[256];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) output.append(buffer, n);
  close(pipe_fds[0]);
  waitpid(pid, status, 0);
  return output;
}

void Say(int fd, const char* line) {
  (void)!write(fd, line, strlen(line));
}

struct MainThreadChild {
  int fd;
  ThreadRecord* main_record;
};

void* OutliveMain(void* argument) {
  auto* state = static_cast<MainThreadChild*>(argument);
  if (!WaitUntil([&] { return Has(state->main_record, kFinished); })) {
    Say(state->fd, "main never finished\n");
    _exit(1);
  }
  if (ProgramThreadCount() == 1 && g_last_thread_ended_calls.load() == 0) {
    Say(state->fd, "main finished, this thread alone\n");
  }
  return nullptr;  // the last thread: its exit key reports it (LastThreadEnded ends the child)
}

// The main thread's part in the child: registered, then ended without exit() while another
// thread still runs.
void MainThreadInChild(int fd) {
  // The child's only thread has the process's id: the main thread's condition.
  RegisterMainThread();
  ThreadRecord* main_record = t_record;
  if (main_record != nullptr && main_record->tid.load() == getpid() &&
      main_record->lifecycle.load() == (kMainThread | kCreatorReturned) &&
      FindRecord(pthread_self()) == main_record) {
    Say(fd, "main registered\n");
  }
  static MainThreadChild state;
  state = {fd, main_record};
  g_last_thread_ended_fd = fd;
  ThreadRecord* record = RecordBeforeCreate(nullptr, OutliveMain, &state);
  pthread_t thread;
  if (record == nullptr || pthread_create(&thread, nullptr, StartTrampoline, record) != 0) {
    _exit(2);
  }
  ThreadCreatorReturned(record, thread);
  if (g_last_thread_ended_calls.load() == 0) Say(fd, "not yet\n");
  pthread_exit(nullptr);
}

// Forks from a thread of its own: pthread_exit unwinds the stack, and GoogleTest's catch-all
// around a test body would stop it there. In the child that thread is the only one, with the
// process's id: as the main thread of a program.
void* ForkForTheMainThread(void* output) {
  int status = 0;
  *static_cast<std::string*>(output) = InChild(MainThreadInChild, &status);
  static_cast<std::string*>(output)->append(WIFEXITED(status) && WEXITSTATUS(status) == 0
                                                ? "exit 0\n"
                                                : "status " + std::to_string(status) + "\n");
  return nullptr;
}

// The main thread's record: registered on main, never joined; when main ends without exit()
// (pthread_exit) and the last other thread ends after it, start-up's listener hears of it (the
// monitor thread must not keep the process alive).
TEST_F(ThreadLifecycle, MainThreadIsRecordedAndItsEndLetsTheLastThreadStopTheTool) {
  std::string output;
  pthread_t forker;
  ASSERT_EQ(pthread_create(&forker, nullptr, ForkForTheMainThread, &output), 0);
  ASSERT_EQ(pthread_join(forker, nullptr), 0);
  EXPECT_EQ(output,
            "main registered\n"
            "not yet\n"
            "main finished, this thread alone\n"
            "last thread ended\n"
            "exit 0\n");
}

struct ForkScene {
  ThreadRecord* blocked;
  ThreadRecord* finished_unjoined;
  pthread_t blocked_handle;
};

// fork from a thread that is not main, with another thread blocked and one finished and not yet
// joined: the child has only the forking thread, which is its main thread now.
TEST_F(ThreadLifecycle, ForkChildKeepsOnlyTheForkingThreadsRecordAsItsMainThread) {
  Child blocked, finished;
  pthread_t blocked_thread, finished_thread;
  ThreadRecord* blocked_record = CreateThroughCore(&blocked_thread, nullptr, &blocked);
  ThreadRecord* finished_record = CreateThroughCore(&finished_thread, nullptr, &finished);
  ASSERT_NE(blocked_record, nullptr);
  ASSERT_NE(finished_record, nullptr);
  ThreadCreatorReturned(blocked_record, blocked_thread);
  ThreadCreatorReturned(finished_record, finished_thread);
  blocked.tid.wait(0);
  Release(finished);
  ASSERT_TRUE(WaitUntil([&] { return Has(finished_record, kFinished); }));

  struct Forker {
    ForkScene scene;
    std::string output;
    int status = -1;
    ThreadRecord* own = nullptr;
  } forker;
  forker.scene = {blocked_record, finished_record, blocked_thread};
  auto fork_from_here = [](void* argument) -> void* {
    auto* f = static_cast<Forker*>(argument);
    f->own = t_record;
    static ForkScene scene;
    scene = f->scene;
    f->output = InChild(
        [](int fd) {
          ThreadRecord* own = t_record;
          if (own == nullptr) return Say(fd, "no record of the forking thread\n");
          if (own->tid.load() == gettid() && gettid() == getpid()) Say(fd, "new tid\n");
          if (Has(own, kMainThread)) Say(fd, "main thread\n");
          if (!IsLive(scene.blocked) && !IsLive(scene.finished_unjoined) &&
              FindRecord(scene.blocked_handle) == nullptr) {
            Say(fd, "others dropped\n");
          }
          if (IsLive(own) && CountRecords() == 1 && LiveRecordCount() == 1) Say(fd, "one record\n");
          if (ProgramThreadCount() == 1) Say(fd, "alone\n");
        },
        &f->status);
    return nullptr;
  };
  ThreadRecord* forker_record = RecordBeforeCreate(nullptr, fork_from_here, &forker);
  ASSERT_NE(forker_record, nullptr);
  pthread_t forking_thread;
  ASSERT_EQ(pthread_create(&forking_thread, nullptr, StartTrampoline, forker_record), 0);
  ThreadCreatorReturned(forker_record, forking_thread);
  ThreadRecord* forker_looked_up = FindRecord(forking_thread);
  ASSERT_EQ(pthread_join(forking_thread, nullptr), 0);
  ThreadJoined(forker_looked_up, forking_thread);

  EXPECT_EQ(forker.own, forker_record);
  EXPECT_EQ(forker.output, "new tid\nmain thread\nothers dropped\none record\nalone\n");
  EXPECT_TRUE(WIFEXITED(forker.status) && WEXITSTATUS(forker.status) == 0) << forker.status;

  // The parent's records are untouched.
  EXPECT_TRUE(IsLive(blocked_record));
  EXPECT_TRUE(IsLive(finished_record));
  EXPECT_FALSE(Has(blocked_record, kMainThread));
  Release(blocked);
  ASSERT_EQ(pthread_join(blocked_thread, nullptr), 0);
  ThreadJoined(blocked_record, blocked_thread);
  ASSERT_EQ(pthread_join(finished_thread, nullptr), 0);
  ThreadJoined(finished_record, finished_thread);
  EXPECT_FALSE(IsLive(blocked_record));
  EXPECT_FALSE(IsLive(finished_record));
}

// --- the calling thread's alternate signal stack -----------------------------------------------

TEST_F(ThreadLifecycle, AltStackBoundsAreKeptInTheCallersRecordAndClearedWhenDisabled) {
  struct Scene {
    char stack[8192];
    uintptr_t low = 0, low_after_disable = 1;
    size_t size = 0, size_after_disable = 1;
  } scene;
  ASSERT_NO_FATAL_FAILURE(RunThroughCoreToTheEnd(
      [](void* argument) -> void* {
        auto* s = static_cast<Scene*>(argument);
        NoteAltStack(stack_t{.ss_sp = s->stack, .ss_flags = 0, .ss_size = sizeof s->stack});
        s->low = t_record->altstack_low.load();
        s->size = t_record->altstack_size.load();
        // sigaltstack ignores the bounds given with SS_DISABLE: so must the record.
        NoteAltStack(stack_t{.ss_sp = s->stack, .ss_flags = SS_DISABLE, .ss_size = 4096});
        s->low_after_disable = t_record->altstack_low.load();
        s->size_after_disable = t_record->altstack_size.load();
        return nullptr;
      },
      &scene));
  EXPECT_EQ(scene.low, reinterpret_cast<uintptr_t>(scene.stack));
  EXPECT_EQ(scene.size, sizeof scene.stack);
  EXPECT_EQ(scene.low_after_disable, 0u);
  EXPECT_EQ(scene.size_after_disable, 0u);
}

}  // namespace
}  // namespace threadleak
