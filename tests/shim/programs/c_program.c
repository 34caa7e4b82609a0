/* A C program: glibc's old condition variable ABI, a thread made with raw clone(), and a C++
   library loaded with dlopen whose exceptions must work as without the shim.
   Usage: c_program old_abi_ok | old_abi_leak | raw_clone_leak | errno_across_create |
          ptrace_interrupted_sleep |
          cxx_exceptions LIBRARY */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The pre-2.3.2 condvar functions, as a program linked against an old glibc calls them. */
__asm__(".symver old_cond_init, pthread_cond_init@GLIBC_2.2.5");
__asm__(".symver old_cond_wait, pthread_cond_wait@GLIBC_2.2.5");
__asm__(".symver old_cond_signal, pthread_cond_signal@GLIBC_2.2.5");
__asm__(".symver old_cond_destroy, pthread_cond_destroy@GLIBC_2.2.5");
int old_cond_init(pthread_cond_t*, const pthread_condattr_t*);
int old_cond_wait(pthread_cond_t*, pthread_mutex_t*);
int old_cond_signal(pthread_cond_t*);
int old_cond_destroy(pthread_cond_t*);

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static int ready = 0;
static int waiting = 0;

__attribute__((noinline)) static void* old_abi_waiter(void* unused) {
  (void)unused;
  pthread_mutex_lock(&mutex);
  waiting = 1;
  while (!ready) old_cond_wait(&cond, &mutex);
  pthread_mutex_unlock(&mutex);
  return NULL;
}

static int old_abi(int leak) {
  old_cond_init(&cond, NULL);
  pthread_t waiter;
  pthread_create(&waiter, NULL, old_abi_waiter, NULL);
  for (;;) {
    pthread_mutex_lock(&mutex);
    int is_waiting = waiting;
    pthread_mutex_unlock(&mutex);
    if (is_waiting) break;
    usleep(1000);
  }
  usleep(20000);
  if (leak) {
    pthread_detach(waiter);
    return 0;
  }
  pthread_mutex_lock(&mutex);
  ready = 1;
  old_cond_signal(&cond);
  pthread_mutex_unlock(&mutex);
  pthread_join(waiter, NULL);
  old_cond_destroy(&cond);
  return 0;
}

/* A thread glibc knows nothing about: it may not touch libc (its TLS is the parent's), so it
   reads with a bare system call. */
static int raw_pipe[2];

static int raw_reader(void* unused) {
  (void)unused;
  char byte;
  for (;;) {
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "0"((long)SYS_read), "D"((long)raw_pipe[0]), "S"(&byte), "d"(1L)
                     : "rcx", "r11", "memory");
  }
  return 0;
}

static int raw_clone_leak(void) {
  if (pipe(raw_pipe) != 0) return 1;
  size_t size = 256 * 1024;
  char* stack = malloc(size);
  int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  if (clone(raw_reader, stack + size, flags, NULL) < 0) return 1;
  usleep(50000);
  return 0;
}

static int cxx_exceptions(const char* library) {
  void* handle = dlopen(library, RTLD_NOW);
  if (handle == NULL) {
    fprintf(stderr, "c_program: %s\n", dlerror());
    return 1;
  }
  int (*run)(void) = (int (*)(void))dlsym(handle, "run_exception_checks");
  int failures = run();
  if (failures != 0) fprintf(stderr, "c_program: %d exception checks failed\n", failures);
  return failures == 0 ? 0 : 1;
}

static void* return_at_once(void* argument) {
  return argument;
}

/* errno across a successful pthread_create, the first (the tool starts its own thread then) and
   a later one: what libc leaves, printed so that a run with and without the shim compare. */
static int errno_across_create(void) {
  for (int i = 0; i < 2; ++i) {
    pthread_t thread;
    errno = 1234 + i;
    int result = pthread_create(&thread, NULL, return_at_once, NULL);
    int after = errno;
    pthread_join(thread, NULL);
    printf("create %d: result %d errno %d\n", i, result, after);
  }
  return 0;
}

static void* sleep_for_an_hour(void* argument) {
  struct timespec hour = {3600, 0};
  nanosleep(&hour, NULL);
  return argument;
}

/* A thread asleep in nanosleep is stopped and let go by a tracer (as gdb, strace or
   LeakSanitizer's exit check do): the kernel resumes its sleep as restart_syscall. Main then
   returns, leaving it: the report must still say it sleeps. */
static int ptrace_interrupted_sleep(void) {
  pthread_t sleeper;
  pthread_create(&sleeper, NULL, sleep_for_an_hour, NULL);
  usleep(100 * 1000);
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* Yama: let the child trace us */
  pid_t tracee = 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task");
  /* The sleeper's tid: the task that is not main. */
  DIR* dir = opendir(path);
  struct dirent* entry;
  while (dir != NULL && (entry = readdir(dir)) != NULL) {
    pid_t tid = (pid_t)atoi(entry->d_name);
    if (tid > 0 && tid != getpid()) tracee = tid;
  }
  if (dir != NULL) closedir(dir);
  pid_t child = fork();
  if (child == 0) {
    if (ptrace(PTRACE_SEIZE, tracee, NULL, NULL) != 0) _exit(3);
    if (ptrace(PTRACE_INTERRUPT, tracee, NULL, NULL) != 0) _exit(4);
    int status;
    if (waitpid(tracee, &status, __WALL) != tracee) _exit(5);
    if (ptrace(PTRACE_DETACH, tracee, NULL, NULL) != 0) _exit(6);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  usleep(100 * 1000);
  char syscall_path[96], line[128] = "";
  snprintf(syscall_path, sizeof syscall_path, "/proc/self/task/%d/syscall", (int)tracee);
  FILE* file = fopen(syscall_path, "r");
  if (file != NULL) {
    if (fgets(line, sizeof line, file) == NULL) line[0] = '\0';
    fclose(file);
  }
  printf("tracer status %d, sleeper in syscall %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
         atoi(line));
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  const char* scenario = argc > 1 ? argv[1] : "";
  if (strcmp(scenario, "old_abi_ok") == 0) return old_abi(0);
  if (strcmp(scenario, "old_abi_leak") == 0) return old_abi(1);
  if (strcmp(scenario, "raw_clone_leak") == 0) return raw_clone_leak();
  if (strcmp(scenario, "errno_across_create") == 0) return errno_across_create();
  if (strcmp(scenario, "ptrace_interrupted_sleep") == 0) return ptrace_interrupted_sleep();
  if (strcmp(scenario, "cxx_exceptions") == 0 && argc > 2) return cxx_exceptions(argv[2]);
  fprintf(stderr, "c_program: unknown scenario '%s'\n", scenario);
  return 2;
}
