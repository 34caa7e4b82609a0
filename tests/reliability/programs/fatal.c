/* Issue 15, dump before death (dump_on_fatal=1): a hung program killed by SIGTERM, and a crash.
   The process must die of the same signal, with the same status and core dump, as without the
   tool; with the option, a dump names every thread and the one that took the signal.

   Usage: fatal term          a thread blocked forever; main joins it; another thread sends the
                              process SIGTERM (only main takes it)
          fatal segv          a thread named "crasher" writes through a null pointer
          fatal segv_core DIR the same, with RLIMIT_CORE raised so the kernel writes a core dump
                              (into DIR, its working directory)
          fatal own_handler   main installs its own SIGTERM handler (prints, exits 3), then as
                              "term"
          fatal term_altstack main runs its signal handlers on an alternate stack of 4 KiB with a
                              guard page below (sigaltstack), then as "term"
          fatal term_signalled main has a 256 KiB alternate stack and a SIGUSR1 handler on it;
                              a thread sends main SIGUSR1 every 200 us; main raises SIGTERM
   Prints "pid=N" first. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_never = PTHREAD_COND_INITIALIZER;

static void sleep_ms(long ms) {
  struct timespec pause_for = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause_for, &pause_for) != 0) {
  }
}

__attribute__((noinline)) static void* fatal_blocked_forever(void* unused) {
  (void)unused;
  prctl(PR_SET_NAME, "blocked");
  pthread_mutex_lock(&g_mutex);
  for (;;) pthread_cond_wait(&g_never, &g_mutex);
  return NULL;
}

static void* send_term(void* unused) {
  (void)unused;
  sleep_ms(200);
  kill(getpid(), SIGTERM);
  return NULL;
}

static void on_term(int signal_number) {
  (void)signal_number;
  static const char said[] = "own handler\n";
  write(1, said, sizeof said - 1);
  _exit(3);
}

__attribute__((noinline)) static int fatal_hung_main(int own_handler) {
  if (own_handler) signal(SIGTERM, on_term);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, NULL); /* the threads below never take it */
  pthread_t blocked, killer;
  pthread_create(&blocked, NULL, fatal_blocked_forever, NULL);
  pthread_create(&killer, NULL, send_term, NULL);
  pthread_sigmask(SIG_UNBLOCK, &term, NULL);
  pthread_join(blocked, NULL); /* forever: the signal ends it */
  return 0;
}

/* A small alternate signal stack, as a program may size it (MINSIGSTKSZ is 2 KiB): whatever
   runs in a handler on it must fit, or it faults on the guard page. */
static int with_small_altstack(void) {
  const size_t page = 4096, size = 4096;
  char* memory =
      mmap(NULL, page + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED || mprotect(memory, page, PROT_NONE) != 0) return -1;
  stack_t stack = {.ss_sp = memory + page, .ss_size = size};
  return sigaltstack(&stack, NULL);
}

/* term_signalled: other signals keep coming while the dump runs. */
static pid_t g_main_tid;

static void on_usr1(int signal_number) {
  (void)signal_number;
}

static void* send_usr1_to_main(void* unused) {
  (void)unused;
  for (;;) {
    syscall(SYS_tgkill, getpid(), g_main_tid, SIGUSR1);
    usleep(200);
  }
  return NULL;
}

static int term_signalled(void) {
  g_main_tid = gettid();
  static char alternate[256 * 1024];
  stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate};
  struct sigaction usr1 = {0};
  usr1.sa_handler = on_usr1;
  usr1.sa_flags = SA_ONSTACK | SA_RESTART;
  if (sigaltstack(&stack, NULL) != 0 || sigaction(SIGUSR1, &usr1, NULL) != 0) return 2;
  pthread_t blocked, sender;
  pthread_create(&blocked, NULL, fatal_blocked_forever, NULL);
  pthread_create(&sender, NULL, send_usr1_to_main, NULL);
  sleep_ms(100);
  raise(SIGTERM);
  return 0;
}

__attribute__((noinline)) static void* fatal_crasher(void* unused) {
  (void)unused;
  prctl(PR_SET_NAME, "crasher");
  sleep_ms(100);
  *(volatile int*)(unused) = 1; /* unused is NULL */
  return NULL;
}

static int segv(int core) {
  struct rlimit limit = {core ? RLIM_INFINITY : 0, core ? RLIM_INFINITY : 0};
  if (core) getrlimit(RLIMIT_CORE, &limit), limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_CORE, &limit);
  pthread_t blocked, crasher;
  pthread_create(&blocked, NULL, fatal_blocked_forever, NULL);
  pthread_create(&crasher, NULL, fatal_crasher, NULL);
  pthread_join(crasher, NULL);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("pid=%d\n", (int)getpid());
  const char* scenario = argc > 1 ? argv[1] : "";
  if (strcmp(scenario, "term") == 0) return fatal_hung_main(0);
  if (strcmp(scenario, "own_handler") == 0) return fatal_hung_main(1);
  if (strcmp(scenario, "term_signalled") == 0) return term_signalled();
  if (strcmp(scenario, "term_altstack") == 0) {
    if (with_small_altstack() != 0) return 2;
    return fatal_hung_main(0);
  }
  if (strcmp(scenario, "segv") == 0) return segv(0);
  if (strcmp(scenario, "segv_core") == 0 && argc > 2 && chdir(argv[2]) == 0) return segv(1);
  fprintf(stderr, "usage: fatal term|segv|segv_core|own_handler\n");
  return 2;
}
