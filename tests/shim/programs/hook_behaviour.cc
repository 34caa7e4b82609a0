// Scenarios that check the shim leaves programs' behaviour alone and keeps the exit path safe.
// Usage: hook_behaviour SCENARIO. Exits 0 when the program saw what it expected, 1 otherwise.
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/start_detached.h"

namespace {

int failures = 0;

#define EXPECT(condition)                                                              \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "hook_behaviour: %s:%d: expected %s\n", __FILE__, __LINE__, \
                   #condition);                                                        \
      ++failures;                                                                      \
    }                                                                                  \
  } while (0)

void BlockForever() {
  static std::mutex mutex;
  static std::condition_variable never;
  std::unique_lock lock(mutex);
  never.wait(lock, [] { return false; });
}

// Every hooked call returns what libc returns, and errno is what libc leaves.
int ReturnValuesAndErrno() {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t checked;
  pthread_mutex_init(&checked, &attributes);
  EXPECT(pthread_mutex_lock(&checked) == 0);
  EXPECT(pthread_mutex_lock(&checked) == EDEADLK);  // relock by the owner
  EXPECT(pthread_mutex_unlock(&checked) == 0);

  pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_t recursive;
  pthread_mutex_init(&recursive, &attributes);
  EXPECT(pthread_mutex_lock(&recursive) == 0);
  EXPECT(pthread_mutex_lock(&recursive) == 0);
  EXPECT(pthread_mutex_unlock(&recursive) == 0);
  EXPECT(pthread_mutex_unlock(&recursive) == 0);
  EXPECT(pthread_mutex_unlock(&recursive) == EPERM);  // no longer owned

  sem_t semaphore;
  sem_init(&semaphore, 0, 1);
  errno = 1234;
  EXPECT(sem_wait(&semaphore) == 0);
  EXPECT(errno == 1234);  // the shim's own attempt must not leave EAGAIN behind
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sem_post(&semaphore);
  });
  errno = 4321;
  EXPECT(sem_wait(&semaphore) == 0);  // blocks until posted
  EXPECT(errno == 4321);
  poster.join();

  pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
  EXPECT(pthread_rwlock_rdlock(&rwlock) == 0);
  EXPECT(pthread_rwlock_rdlock(&rwlock) == 0);
  EXPECT(pthread_rwlock_trywrlock(&rwlock) == EBUSY);
  EXPECT(pthread_rwlock_unlock(&rwlock) == 0);
  EXPECT(pthread_rwlock_unlock(&rwlock) == 0);
  EXPECT(pthread_rwlock_wrlock(&rwlock) == 0);
  EXPECT(pthread_rwlock_wrlock(&rwlock) == EDEADLK);
  EXPECT(pthread_rwlock_unlock(&rwlock) == 0);

  timespec past = {0, 0};
  pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&held);
  std::thread([&] { EXPECT(pthread_mutex_timedlock(&held, &past) == ETIMEDOUT); }).join();
  pthread_mutex_unlock(&held);

  pthread_t self_joined = pthread_self();
  EXPECT(pthread_join(self_joined, nullptr) == EDEADLK);

  timespec bad = {0, -1};
  errno = 0;
  EXPECT(nanosleep(&bad, nullptr) == -1 && errno == EINVAL);

  std::promise<int> promise;
  std::future<int> future = promise.get_future();
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    promise.set_value(7);
  });
  EXPECT(future.get() == 7);  // a futex wait through syscall()
  setter.join();
  EXPECT(std::async(std::launch::async, [] { return 5; }).get() == 5);
  return failures == 0 ? 0 : 1;
}

// A leaked thread waiting on a static condition variable: without the check before static
// destructors, exit would hang in ~condition_variable.
std::mutex g_static_mutex;
std::condition_variable g_static_cv;

int StaticConditionVariable() {
  std::atomic<bool> waiting{false};
  std::thread([&] {
    std::unique_lock lock(g_static_mutex);
    waiting = true;
    g_static_cv.wait(lock, [] { return false; });
  }).detach();
  while (!waiting) std::this_thread::yield();
  return 0;
}

// A thread blocked in fgets() holds stdin's lock for ever; the exit path must not take it. The
// program's own buffered output must still come out.
int StdinReader() {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  dup2(fds[0], STDIN_FILENO);  // fds[1] stays open: nothing will ever arrive
  std::atomic<bool> started{false};
  std::thread([&] {
    started = true;
    char line[64];
    (void)fgets(line, sizeof line, stdin);
  }).detach();
  while (!started) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it enter read()
  std::printf("buffered output survives the report\n");        // stdout is a file: fully buffered
  return 0;
}

// exit() from a thread while main is joining it: neither the exiting thread nor main is a leak,
// the third thread is.
int ExitFromThread() {
  std::thread([] { BlockForever(); }).detach();
  pthread_t exiter;
  pthread_create(
      &exiter, nullptr,
      [](void*) -> void* {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        exit(0);
      },
      nullptr);
  pthread_join(exiter, nullptr);
  return 1;  // not reached
}

// Many threads come and go, joined or detached: none may be reported, nothing may hang.
int Churn() {
  std::atomic<int> detached_done{0};
  for (int round = 0; round < 200; ++round) {
    std::vector<std::thread> batch;
    for (int i = 0; i < 50; ++i) batch.emplace_back([] {});
    for (std::thread& t : batch) t.join();
    test_support::StartAndDetach([&] { ++detached_done; });
    pthread_t self_detaching;
    pthread_create(
        &self_detaching, nullptr,
        [](void*) -> void* {
          pthread_detach(pthread_self());
          return nullptr;
        },
        nullptr);
  }
  while (detached_done < 200) std::this_thread::yield();
  return 0;
}

// The child of a fork reports its own leak and exits with the leak status; the parent, whose
// threads are all gone, is untouched.
int ForkChildLeaks() {
  std::thread([] {}).join();
  pid_t child = fork();
  if (child == 0) {
    std::thread([] { BlockForever(); }).detach();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return 0;  // through main's return, as a program would
  }
  int status = 0;
  waitpid(child, &status, 0);
  std::printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return WIFEXITED(status) && WEXITSTATUS(status) == 66 ? 0 : 1;
}

// A thread cancelled while blocked, and one ending in pthread_exit: both finished, both joined.
int CancelAndPthreadExit() {
  pthread_t cancelled;
  pthread_create(
      &cancelled, nullptr,
      [](void*) -> void* {
        for (;;) pause();
      },
      nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pthread_cancel(cancelled);
  void* result = nullptr;
  EXPECT(pthread_join(cancelled, &result) == 0);
  EXPECT(result == PTHREAD_CANCELED);
  pthread_t exiting;
  pthread_create(
      &exiting, nullptr, [](void*) -> void* { pthread_exit(reinterpret_cast<void*>(9)); }, nullptr);
  EXPECT(pthread_join(exiting, &result) == 0);
  EXPECT(result == reinterpret_cast<void*>(9));
  return failures == 0 ? 0 : 1;
}

// --- Threads joined late in the exit: correct programs, never leaks (the check runs after every
// destructor). Each prints a line when its thread is joined.

// A worker that waits until told to stop.
class Worker {
 public:
  void Start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_; });
    });
  }
  void StopAndJoin(const char* said) {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    std::printf("%s\n", said);
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// A global std::jthread: its destructor asks it to stop and joins it.
std::jthread g_jthread;

int GlobalJthread() {
  g_jthread = std::jthread([](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    wake.wait(lock, stop, [] { return false; });
    std::printf("jthread stopped\n");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return 0;
}

Worker g_atexit_worker;

int AtexitJoin() {
  g_atexit_worker.Start();
  std::atexit([] { g_atexit_worker.StopAndJoin("joined in an atexit handler"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return 0;
}

// A static thread pool whose destructor stops and joins its workers.
struct Pool {
  Worker workers[3];
  Pool() {
    for (Worker& worker : workers) worker.Start();
  }
  ~Pool() {
    for (Worker& worker : workers) worker.StopAndJoin("pool worker joined in a destructor");
  }
};

// syscall() called with the word above its return address — where a seventh argument would be
// passed, and where a caller that passes six or fewer keeps its own data — at the start of a
// read-only page. glibc's syscall() reads that word and never writes it; a hook that wrote it
// back (as a compiler may write a declared parameter's slot) would change the caller's memory,
// and here crashes.
long SyscallWithReadOnlyWordAbove(void* stack_top, long number, long a1, long a2, long a3) {
  long result = 0;
  long (*function)(long, ...) = &syscall;
  // The fourth and fifth arguments are null (a futex wait's timeout, uaddr2); the sixth is the
  // read-only word.
  register long a4 asm("r8") = 0;
  register long a5 asm("r9") = 0;
  asm volatile(
      "mov %%rsp, %%rbx\n\t"
      "mov %[top], %%rsp\n\t"
      "call *%[function]\n\t"
      "mov %%rbx, %%rsp\n\t"
      : "=a"(result), "+D"(number), "+S"(a1), "+d"(a2), "+c"(a3), "+r"(a4), "+r"(a5)
      : [top] "r"(stack_top), [function] "r"(function), "a"(0)
      : "rbx", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
        "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  return result;
}

int SyscallLeavesTheCallersStackAlone() {
  constexpr size_t kStack = 256 * 1024;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mapping =
      mmap(nullptr, kStack + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return 2;
  char* top = static_cast<char*>(mapping) + kStack;  // the read-only page starts here
  *reinterpret_cast<long*>(top) = 0x5eed;
  if (mprotect(top, page, PROT_READ) != 0) return 2;
  static int futex_word = 0;
  syscall(SYS_getpid);  // anything the first call resolves, on the ordinary stack
  auto word = reinterpret_cast<long>(&futex_word);
  long woken = SyscallWithReadOnlyWordAbove(top, SYS_futex, word, FUTEX_WAKE_PRIVATE, 1);
  long wait = SyscallWithReadOnlyWordAbove(top, SYS_futex, word, FUTEX_WAIT_PRIVATE, 1);
  int wait_errno = errno;
  long pid = SyscallWithReadOnlyWordAbove(top, SYS_getpid, 0, 0, 0);
  std::printf("woken=%ld wait=%ld errno=%s pid_matches=%d word=%lx\n", woken, wait,
              wait_errno == EAGAIN ? "EAGAIN" : std::strerror(wait_errno), pid == getpid() ? 1 : 0,
              *reinterpret_cast<long*>(top));
  return 0;
}

// Keys made and deleted every way a program can (pthread_key_create with and without a
// destructor, __pthread_key_create as older code calls it, tss_create, an invalid delete), with
// every signal blocked, set in a thread that forks: the values, errno and destructor calls that
// libc gives. Printed, so a test compares the run with and without the shim.
std::atomic<int> g_key_destructions{0};

void CountDestruction(void*) {
  ++g_key_destructions;
}

int KeysAsLibcMakesThem() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  pthread_key_t with_destructor, without, legacy_made;
  errno = 77;
  int plain = pthread_key_create(&with_destructor, CountDestruction);
  int no_destructor = pthread_key_create(&without, nullptr);
  using KeyCreate = int (*)(pthread_key_t*, void (*)(void*));
  auto legacy = reinterpret_cast<KeyCreate>(dlsym(RTLD_DEFAULT, "__pthread_key_create"));
  int legacy_status = legacy != nullptr ? legacy(&legacy_made, CountDestruction) : -1;
  int error = errno;
  tss_t c11;
  int c11_status = tss_create(&c11, CountDestruction);
  int deleted = pthread_key_delete(without);
  int invalid = pthread_key_delete(100000);
  pthread_t thread;
  pthread_create(
      &thread, nullptr,
      [](void* key) -> void* {
        pthread_setspecific(*static_cast<pthread_key_t*>(key), key);
        pid_t child = fork();
        if (child == 0)
          _exit(pthread_getspecific(*static_cast<pthread_key_t*>(key)) == key ? 5 : 6);
        int status = 0;
        waitpid(child, &status, 0);
        return reinterpret_cast<void*>(static_cast<intptr_t>(WEXITSTATUS(status)));
      },
      &with_destructor);
  void* child_status = nullptr;
  pthread_join(thread, &child_status);
  tss_delete(c11);
  std::printf(
      "created=%d,%d,%d,%d errno=%d deleted=%d,%d child=%ld destructions=%d distinct=%d\n", plain,
      no_destructor, legacy_status, c11_status, error, deleted, invalid,
      static_cast<long>(reinterpret_cast<intptr_t>(child_status)), g_key_destructions.load(),
      with_destructor != without && without != legacy_made && with_destructor != legacy_made);
  return 0;
}

// Thread names set every way a program can — pthread_setname_np on itself and on another thread,
// prctl(PR_SET_NAME), the raw system call — each by a "namer" thread (or its creator) that then
// creates a child; and one namer that creates its child first and renames itself after. The
// values, errno and names libc gives are printed, so a test compares the run with and without
// the shim. With `leak`, each namer's child blocks for ever and the namers end unjoined: a report
// names each child's creator by the name it had when it created, and each finished namer by
// its name at its end.
struct Namer {
  const char* way = nullptr;
  const char* name = nullptr;
  bool leak = false;
  sem_t renamed{};  // by its creator, for the way "setname_other"
  sem_t done{};
  char line[160] = {};
};

int RenameSelf(const char* way, const char* name) {
  if (std::strcmp(way, "setname_self") == 0) return pthread_setname_np(pthread_self(), name);
  if (std::strcmp(way, "prctl") == 0) return prctl(PR_SET_NAME, name);
  return static_cast<int>(syscall(SYS_prctl, PR_SET_NAME, name, 0, 0, 0));
}

void* NamerMain(void* argument) {
  auto* namer = static_cast<Namer*>(argument);
  errno = 77;
  int status = 0;
  const bool rename_after_create = std::strcmp(namer->way, "prctl_after_create") == 0;
  if (std::strcmp(namer->way, "setname_other") == 0) {
    sem_wait(&namer->renamed);
  } else if (!rename_after_create) {
    status = RenameSelf(namer->way, namer->name);
  }
  pthread_t child;
  pthread_create(&child, nullptr,
                 namer->leak ? +[](void*) -> void* {
                   for (;;) pause();
                 }
                             : +[](void*) -> void* { return nullptr; },
                 nullptr);
  if (!namer->leak) pthread_join(child, nullptr);
  if (rename_after_create) status = RenameSelf("prctl", namer->name);
  int error = errno;
  char now[16] = {};
  pthread_getname_np(pthread_self(), now, sizeof now);
  std::snprintf(namer->line, sizeof namer->line, "%s: status=%d errno=%d name=%s\n", namer->way,
                status, error, now);
  sem_post(&namer->done);
  return nullptr;
}

int ThreadNames(bool leak) {
  static Namer namers[5];
  const char* const ways[][2] = {{"setname_self", "by-setname"},
                                 {"setname_other", "by-other"},
                                 {"prctl", "by-prctl"},
                                 {"raw_prctl", "by-raw-prctl"},
                                 {"prctl_after_create", "renamed-late"}};
  for (int i = 0; i < 5; ++i) {
    namers[i].way = ways[i][0];
    namers[i].name = ways[i][1];
  }
  for (Namer& namer : namers) {
    namer.leak = leak;
    sem_init(&namer.renamed, 0, 0);
    sem_init(&namer.done, 0, 0);
    pthread_t thread;
    if (pthread_create(&thread, nullptr, NamerMain, &namer) != 0) return 1;
    if (std::strcmp(namer.way, "setname_other") == 0) {
      errno = 77;
      int status = pthread_setname_np(thread, namer.name);
      std::printf("renamed another: status=%d errno=%d\n", status, errno);
      sem_post(&namer.renamed);
    }
    sem_wait(&namer.done);
    if (!leak) pthread_join(thread, nullptr);
    std::fputs(namer.line, stdout);
  }
  // Errors and truncation, on the main thread; then a thread that inherits main's new name.
  errno = 77;
  int too_long = pthread_setname_np(pthread_self(), "a-name-much-too-long");
  int error = errno;
  int truncated = prctl(PR_SET_NAME, "a-name-much-too-long");
  std::printf("too long: status=%d errno=%d; prctl: status=%d errno=%d\n", too_long, error,
              truncated, errno);
  static char inherited[16];
  static sem_t read_it;
  sem_init(&read_it, 0, 0);
  pthread_t heir;
  pthread_create(
      &heir, nullptr,
      [](void*) -> void* {
        pthread_getname_np(pthread_self(), inherited, sizeof inherited);
        sem_post(&read_it);
        return nullptr;
      },
      nullptr);
  sem_wait(&read_it);
  if (!leak) pthread_join(heir, nullptr);
  std::printf("inherited=%s\n", inherited);
  return 0;
}

int StaticPool() {
  static Pool pool;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return 0;
}

}  // namespace

extern "C" void late_join_library_start();  // tests/shim/programs/late_join_library.c

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOFBF, 4096);
  std::string scenario = argc > 1 ? argv[1] : "";
  if (scenario == "return_values") return ReturnValuesAndErrno();
  if (scenario == "static_cv") return StaticConditionVariable();
  if (scenario == "stdin_reader") return StdinReader();
  if (scenario == "exit_from_thread") return ExitFromThread();
  if (scenario == "churn") return Churn();
  if (scenario == "fork_child_leaks") return ForkChildLeaks();
  if (scenario == "cancel_and_exit") return CancelAndPthreadExit();
  if (scenario == "global_jthread") return GlobalJthread();
  if (scenario == "atexit_join") return AtexitJoin();
  if (scenario == "static_pool") return StaticPool();
  if (scenario == "syscall_stack") return SyscallLeavesTheCallersStackAlone();
  if (scenario == "keys") return KeysAsLibcMakesThem();
  if (scenario == "names") return ThreadNames(/*leak=*/false);
  if (scenario == "names_leak") return ThreadNames(/*leak=*/true);
  if (scenario == "library_pool") {
    late_join_library_start();
    return 0;
  }
  std::fprintf(stderr, "hook_behaviour: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
