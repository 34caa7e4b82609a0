// Programs whose verdicts must not lie (issue 14, "Verdicts you can trust"): objects shared with
// another process, waits left by siglongjmp or a cancellation, C11 call_once and thrd_exit, a
// thread name with odd bytes. Each case leaves its threads where the test expects them, prints
// what the test needs to know ("object NAME 0x..", "tid NAME N"), then returns from main; the
// test runs it with and without the shim (tests/analysis/verdicts_test.cc).
//
// No sleeps to wait for a thread: a case waits until the kernel shows the thread in the system
// call it must block in (/proc/self/task/TID/syscall).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
// After a call that must keep its caller's frame (no tail call): stacks read as written.
#define KEEP_FRAME() __asm__ volatile("" ::: "memory")

static void Fail(const char* what) {
  fprintf(stderr, "verdict_cases: %s: %s\n", what, strerror(errno));
  exit(3);
}

// Waits until thread `tid` sleeps in system call `number` (futex: 202, nanosleep: 35,
// clock_nanosleep: 230, read: 0).
static void AwaitSyscall(pid_t tid, long number) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  for (int i = 0; i < 20000; ++i) {
    FILE* file = fopen(path, "r");
    long now = -1;
    if (file != NULL) {
      if (fscanf(file, "%ld", &now) != 1) now = -1;
      fclose(file);
    }
    if (now == number) return;
    struct timespec pause = {0, 500000};
    nanosleep(&pause, NULL);
  }
  fprintf(stderr, "verdict_cases: thread %d never entered system call %ld\n", tid, number);
  exit(3);
}

static _Atomic pid_t g_tids[8];

static void Started(int slot, const char* name) {
  pthread_setname_np(pthread_self(), name);
  g_tids[slot] = (pid_t)syscall(SYS_gettid);
}

static pid_t AwaitStarted(int slot) {
  while (g_tids[slot] == 0) sched_yield();
  return g_tids[slot];
}

static pthread_t Spawn(void* (*fn)(void*), void* arg) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, fn, arg) != 0) Fail("pthread_create");
  return thread;
}

// --- pshared: a child process holds what the parent's threads wait for ----------------------

struct Shared {
  pthread_mutex_t mutex;  // PTHREAD_PROCESS_SHARED, in MAP_SHARED|MAP_ANONYMOUS memory
  sem_t sem;              // pshared semaphore at 0
  pthread_cond_t cond;    // PTHREAD_PROCESS_SHARED
  pthread_mutex_t cond_mutex;
};

static struct Shared* g_shared;
static sem_t* g_memfd_sem;  // a pshared semaphore in a memfd mapping
// PTHREAD_PROCESS_SHARED in this process's private memory: the attribute alone says it.
static pthread_cond_t g_attribute_cond;
static pthread_mutex_t g_attribute_cond_mutex = PTHREAD_MUTEX_INITIALIZER;

static NOINLINE void* SharedMutexWaiter(void* arg) {
  (void)arg;
  Started(0, "shm-mutex");
  pthread_mutex_lock(&g_shared->mutex);  // held by the child process
  return NULL;
}

static NOINLINE void* SharedSemWaiter(void* arg) {
  (void)arg;
  Started(1, "shm-sem");
  while (sem_wait(&g_shared->sem) != 0) {
  }
  return NULL;
}

static NOINLINE void* SharedCondWaiter(void* arg) {
  (void)arg;
  Started(2, "shm-cond");
  pthread_mutex_lock(&g_shared->cond_mutex);
  for (;;) pthread_cond_wait(&g_shared->cond, &g_shared->cond_mutex);
  return NULL;
}

static NOINLINE void* MemfdSemWaiter(void* arg) {
  (void)arg;
  Started(3, "memfd-sem");
  while (sem_wait(g_memfd_sem) != 0) {
  }
  return NULL;
}

static NOINLINE void* AttributeCondWaiter(void* arg) {
  (void)arg;
  Started(4, "attr-cond");
  pthread_mutex_lock(&g_attribute_cond_mutex);
  for (;;) pthread_cond_wait(&g_attribute_cond, &g_attribute_cond_mutex);
  return NULL;
}

static int PsharedCase(void) {
  g_shared =
      mmap(NULL, sizeof *g_shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_shared == MAP_FAILED) Fail("mmap");
  pthread_mutexattr_t mutex_attr;
  pthread_mutexattr_init(&mutex_attr);
  pthread_mutexattr_setpshared(&mutex_attr, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&g_shared->mutex, &mutex_attr);
  pthread_mutex_init(&g_shared->cond_mutex, &mutex_attr);
  pthread_condattr_t cond_attr;
  pthread_condattr_init(&cond_attr);
  pthread_condattr_setpshared(&cond_attr, PTHREAD_PROCESS_SHARED);
  pthread_cond_init(&g_shared->cond, &cond_attr);
  pthread_cond_init(&g_attribute_cond, &cond_attr);
  sem_init(&g_shared->sem, 1, 0);
  int memfd = memfd_create("verdict-cases", 0);
  if (memfd < 0 || ftruncate(memfd, 4096) != 0) Fail("memfd");
  g_memfd_sem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (g_memfd_sem == MAP_FAILED) Fail("mmap memfd");
  sem_init(g_memfd_sem, 1, 0);

  // The child takes the mutex, says so, and keeps it until the parent is gone (its end of the
  // pipe reads end of file); it could post the semaphores and signal the condition variable
  // all along.
  int locked[2], parent_alive[2];
  if (pipe(locked) != 0 || pipe(parent_alive) != 0) Fail("pipe");
  pid_t child = fork();
  if (child < 0) Fail("fork");
  if (child == 0) {
    close(locked[0]);
    close(parent_alive[1]);
    pthread_mutex_lock(&g_shared->mutex);
    if (write(locked[1], "L", 1) != 1) _exit(4);
    char byte;
    while (read(parent_alive[0], &byte, 1) > 0) {
    }
    pthread_mutex_unlock(&g_shared->mutex);
    sem_post(&g_shared->sem);
    sem_post(g_memfd_sem);
    _exit(0);
  }
  close(locked[1]);
  close(parent_alive[0]);
  char byte;
  if (read(locked[0], &byte, 1) != 1) Fail("child");
  printf("child holds the mutex\n");
  void* (*waiters[])(void*) = {SharedMutexWaiter, SharedSemWaiter, SharedCondWaiter, MemfdSemWaiter,
                               AttributeCondWaiter};
  for (int i = 0; i < 5; ++i) {
    Spawn(waiters[i], NULL);
    AwaitSyscall(AwaitStarted(i), SYS_futex);
  }
  printf("object mutex %p\nobject sem %p\nobject cond %p\nobject memfd_sem %p\n",
         (void*)&g_shared->mutex, (void*)&g_shared->sem, (void*)&g_shared->cond,
         (void*)g_memfd_sem);
  printf("object attribute_cond %p\n", (void*)&g_attribute_cond);
  fflush(stdout);
  return 0;  // parent_alive[1] closes when the process ends: the child lets go then
}

// --- longjmp: threads jump out of a hooked sleep, then block on a mutex or spin -------------

static __thread sigjmp_buf t_jump;
static pthread_mutex_t g_orphaned = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_spinning;

static void JumpOut(int signal) {
  (void)signal;
  siglongjmp(t_jump, 1);
}

static NOINLINE void* TakeAndQuit(void* arg) {
  (void)arg;
  pthread_mutex_lock(&g_orphaned);  // and never unlocks it
  return NULL;
}

static NOINLINE void LockNow(void) {
  pthread_mutex_lock(&g_orphaned);
  KEEP_FRAME();
}

// Its frame is large and never written, so the words where the sleep's hook kept its frame stay
// as they were: nothing on the stack tells that the sleep is over. (LockNow, a small frame of its
// own, keeps the unwind from the kernel's stack pointer out of those stale words.)
static NOINLINE void LockTheOrphanedMutex(void) {
  char untouched[16384];
  __asm__ volatile("" : : "r"(untouched) : "memory");
  LockNow();
  KEEP_FRAME();
}

static NOINLINE void SpinForever(void) {
  char untouched[16384];
  __asm__ volatile("" : : "r"(untouched) : "memory");
  g_spinning = 1;
  for (;;) __asm__ volatile("" ::: "memory");
}

static NOINLINE void SleepLong(void) {
  sleep(1000);  // the signal's handler jumps out of it
  KEEP_FRAME();
}

static NOINLINE void* Jumper(void* arg) {
  Started((int)(long)arg, (long)arg == 0 ? "jumper" : "spinner");
  if (sigsetjmp(t_jump, 1) == 0) SleepLong();
  if ((long)arg == 0) LockTheOrphanedMutex();
  SpinForever();
  KEEP_FRAME();
  return NULL;
}

static int LongjmpCase(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = JumpOut;
  sigaction(SIGUSR1, &action, NULL);
  pthread_t quitter = Spawn(TakeAndQuit, NULL);
  pthread_join(quitter, NULL);
  for (long i = 0; i < 2; ++i) {
    pthread_t jumper = Spawn(Jumper, (void*)i);
    pid_t tid = AwaitStarted((int)i);
    AwaitSyscall(tid, SYS_clock_nanosleep);
    pthread_kill(jumper, SIGUSR1);
    if (i == 0) AwaitSyscall(tid, SYS_futex);
  }
  while (!g_spinning) sched_yield();
  printf("object orphaned %p\n", (void*)&g_orphaned);
  fflush(stdout);
  return 0;
}

// --- cancel: a thread cancelled in a hooked wait blocks in its cleanup handler --------------

static pthread_mutex_t g_cleanup_lock = PTHREAD_MUTEX_INITIALIZER;

static NOINLINE void BlockInCleanup(void* arg) {
  (void)arg;
  LockTheOrphanedMutex();  // its owner has exited: never returns
  KEEP_FRAME();
}

static NOINLINE void ReadUntilTheEnd(int fd) {
  char byte;
  while (read(fd, &byte, 1) != 0) {  // a hooked I/O wait, a cancellation point
  }
}

static NOINLINE void* Cancelled(void* arg) {
  int* pipe_end = arg;
  Started(0, "cancelled");
  pthread_cleanup_push(BlockInCleanup, NULL);
  ReadUntilTheEnd(*pipe_end);
  pthread_cleanup_pop(0);
  return NULL;
}

static int CancelCase(void) {
  (void)g_cleanup_lock;
  pthread_t quitter = Spawn(TakeAndQuit, NULL);
  pthread_join(quitter, NULL);
  static int fds[2];
  if (pipe(fds) != 0) Fail("pipe");
  pthread_t cancelled = Spawn(Cancelled, &fds[0]);
  pid_t tid = AwaitStarted(0);
  AwaitSyscall(tid, SYS_read);
  pthread_cancel(cancelled);
  AwaitSyscall(tid, SYS_futex);
  printf("object orphaned %p\n", (void*)&g_orphaned);
  fflush(stdout);
  return 0;
}

// --- call_once: one thread runs the once-function, which waits; another waits for it --------

static once_flag g_once = ONCE_FLAG_INIT;
static mtx_t g_gate;
static cnd_t g_gate_opened;
static int g_gate_open;

static NOINLINE void SlowInit(void) {
  mtx_lock(&g_gate);
  while (!g_gate_open) cnd_wait(&g_gate_opened, &g_gate);
  mtx_unlock(&g_gate);
}

static NOINLINE int Initialiser(void* arg) {
  (void)arg;
  Started(0, "initialiser");
  call_once(&g_once, SlowInit);
  return 0;
}

static NOINLINE int OnceWaiter(void* arg) {
  (void)arg;
  Started(1, "once-waiter");
  call_once(&g_once, SlowInit);
  return 0;
}

// `opener`: a thread that opens the gate every 10 ms... never: it sleeps, alive, and could.
static NOINLINE int Opener(void* arg) {
  (void)arg;
  Started(2, "opener");
  for (;;) {
    struct timespec pause = {0, 10000000};
    thrd_sleep(&pause, NULL);
    mtx_lock(&g_gate);
    cnd_signal(&g_gate_opened);  // the gate stays shut; a signal nonetheless
    mtx_unlock(&g_gate);
  }
  return 0;
}

static int CallOnceCase(void) {
  mtx_init(&g_gate, mtx_plain);
  cnd_init(&g_gate_opened);
  thrd_t threads[3];
  thrd_create(&threads[0], Initialiser, NULL);
  AwaitSyscall(AwaitStarted(0), SYS_futex);
  thrd_create(&threads[1], OnceWaiter, NULL);
  AwaitSyscall(AwaitStarted(1), SYS_futex);
  thrd_create(&threads[2], Opener, NULL);
  AwaitStarted(2);
  printf("object once %p\nobject gate %p\n", (void*)&g_once, (void*)&g_gate_opened);
  fflush(stdout);
  return 0;
}

// --- thrd_exit: a joined thread that ends with thrd_exit is no leak; an unjoined one is -------

static NOINLINE int EndsWithThrdExit(void* arg) {
  Started((int)(long)arg, (long)arg == 0 ? "joined-exit" : "unjoined-exit");
  thrd_exit(7 + (int)(long)arg);
}

static int ThrdExitCase(void) {
  thrd_t joined, unjoined;
  thrd_create(&joined, EndsWithThrdExit, (void*)0);
  int result = 0;
  thrd_join(joined, &result);
  printf("joined thread ended with %d\n", result);
  thrd_create(&unjoined, EndsWithThrdExit, (void*)1);
  pid_t tid = AwaitStarted(1);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d", tid);
  while (access(path, F_OK) == 0) sched_yield();  // gone from the kernel: it has ended
  printf("tid unjoined-exit %d\n", tid);
  fflush(stdout);
  return 0;
}

// --- odd_name: a thread whose name has a newline, a quote, a backslash, a control byte and a
// byte that is not UTF-8 ---------------------------------------------------------------------

static const char kOddName[] = "a\nb\"c\\d\x01\xff";

static NOINLINE void* OddlyNamed(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), kOddName);
  g_tids[0] = (pid_t)syscall(SYS_gettid);
  for (;;) pause();
  return NULL;
}

static int OddNameCase(void) {
  Spawn(OddlyNamed, NULL);
  AwaitSyscall(AwaitStarted(0), SYS_pause);
  printf("name bytes:");
  for (const char* c = kOddName; *c; ++c) printf(" %02x", (unsigned char)*c);
  printf("\n");
  fflush(stdout);
  return 0;
}

struct Case {
  const char* name;
  int (*run)(void);
};

static const struct Case kCases[] = {
    {"pshared", PsharedCase},    {"longjmp", LongjmpCase},    {"cancel", CancelCase},
    {"call_once", CallOnceCase}, {"thrd_exit", ThrdExitCase}, {"odd_name", OddNameCase},
};

int main(int argc, char** argv) {
  for (size_t i = 0; argc == 2 && i < sizeof kCases / sizeof kCases[0]; ++i) {
    if (strcmp(argv[1], kCases[i].name) == 0) return kCases[i].run();
  }
  fprintf(stderr, "usage: verdict_cases CASE\ncases:");
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; ++i)
    fprintf(stderr, " %s", kCases[i].name);
  fprintf(stderr, "\n");
  return 2;
}
