// Programs that own their signals (issue 12, item 3): what they receive, handle and die of must
// not change under threadleak, however often it dumps them.
//
// Usage: tp_signals MODE TRIGGER_FIFO (protocol: scenario.h)
//
//   signal_thread       daemon style: every signal blocked in every thread, one thread
//                       ("sigwaiter") takes them all with sigwaitinfo and prints each; SIGTERM
//                       from the harness ends its loop and the program
//   reset_dispositions  after the trigger, every disposition is reset to SIG_DFL and main
//                       returns while a thread ("blocked") still waits in a pipe read
//   rt_handlers         a handler for every real-time signal, installed before the dumps; after
//                       the trigger each is sigqueue()d once to the process, and the program
//                       prints which handlers ran, how often and for what
#include <signal.h>

#include <set>
#include <string>
#include <vector>

#include "tests/transparency/programs/scenario.h"

namespace {

using scenario::PrintLine;

std::atomic<bool> g_started{false};

// "15 (TERM)"; real-time signals as "SIGRTMIN+N", since their numbers are glibc's choice.
std::string SignalName(int signal) {
  if (signal >= SIGRTMIN && signal <= SIGRTMAX) {
    return "SIGRTMIN+" + std::to_string(signal - SIGRTMIN);
  }
  const char* abbreviation = sigabbrev_np(signal);
  return std::to_string(signal) + " (" + (abbreviation != nullptr ? abbreviation : "?") + ")";
}

// --- signal_thread ------------------------------------------------------------------------------

std::vector<std::string> g_received;

__attribute__((noinline)) void* SignalThreadMain(void*) {
  pthread_setname_np(pthread_self(), "sigwaiter");
  sigset_t all;
  sigfillset(&all);
  g_started.store(true);
  for (;;) {
    siginfo_t info = {};
    errno = 0;
    int signal = sigwaitinfo(&all, &info);
    int error = errno;
    if (signal < 0) {
      g_received.push_back("sigwaitinfo ret=-1 errno=" + scenario::ErrnoName(error));
      if (error != EINTR) break;
      continue;
    }
    g_received.push_back("received " + SignalName(signal));
    if (signal == SIGTERM) break;
  }
  asm volatile("" ::: "memory");
  return nullptr;
}

int SignalThread() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);  // before any thread: all of them inherit it
  pthread_t thread;
  if (pthread_create(&thread, nullptr, SignalThreadMain, nullptr) != 0) {
    scenario::Fail("pthread_create");
  }
  while (!g_started.load()) usleep(1000);
  PrintLine("ready");
  pthread_join(thread, nullptr);
  for (const std::string& line : g_received) PrintLine(line);
  PrintLine("done");
  return 0;
}

// --- reset_dispositions -------------------------------------------------------------------------

int g_never_written[2];

__attribute__((noinline)) void* BlockedReaderMain(void*) {
  pthread_setname_np(pthread_self(), "blocked");
  g_started.store(true);
  char byte;
  ssize_t n = read(g_never_written[0], &byte, 1);
  fprintf(stderr, "the blocked reader returned %zd\n", n);
  return nullptr;
}

int ResetDispositions(const char* fifo) {
  int trigger = scenario::OpenTrigger(fifo);
  if (pipe(g_never_written) != 0) scenario::Fail("pipe");
  pthread_t thread;
  if (pthread_create(&thread, nullptr, BlockedReaderMain, nullptr) != 0) {
    scenario::Fail("pthread_create");
  }
  while (!g_started.load()) usleep(1000);
  PrintLine("ready");
  scenario::AwaitTrigger(trigger);

  // What a program does before it execs or ends, or a library that cleans up after itself.
  std::string refused;
  for (int signal = 1; signal <= SIGRTMAX; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    errno = 0;
    if (sigaction(signal, &action, nullptr) != 0) {
      refused += " " + std::to_string(signal) + ":" + scenario::ErrnoName(errno);
    }
  }
  PrintLine("sigaction refused SIG_DFL for:" + refused);
  PrintLine("returning from main with a thread blocked");
  return 0;
}

// --- rt_handlers --------------------------------------------------------------------------------

constexpr int kMaxSignal = 65;
std::atomic<int> g_handled[kMaxSignal];
std::atomic<bool> g_code_seen[kMaxSignal][3];  // SI_QUEUE with the right value, SI_QUEUE, other
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_condition = PTHREAD_COND_INITIALIZER;
bool g_release = false;

void OnRealtimeSignal(int signal, siginfo_t* info, void*) {
  g_handled[signal].fetch_add(1);
  int kind = info->si_code != SI_QUEUE ? 2 : info->si_value.sival_int == signal ? 0 : 1;
  g_code_seen[signal][kind].store(true);
}

// Something for the dumps to show besides main: a thread parked on a condition variable.
__attribute__((noinline)) void* ParkedWaiterMain(void*) {
  pthread_setname_np(pthread_self(), "waiter");
  pthread_mutex_lock(&g_mutex);
  g_started.store(true);
  while (!g_release) pthread_cond_wait(&g_condition, &g_mutex);
  pthread_mutex_unlock(&g_mutex);
  return nullptr;
}

int RealtimeHandlers(const char* fifo) {
  int trigger = scenario::OpenTrigger(fifo);
  if (SIGRTMAX >= kMaxSignal) scenario::Fail("SIGRTMAX too large");
  std::string refused;
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    struct sigaction action = {};
    action.sa_sigaction = OnRealtimeSignal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    errno = 0;
    if (sigaction(signal, &action, nullptr) != 0) {
      refused += " " + SignalName(signal) + ":" + scenario::ErrnoName(errno);
    }
  }
  PrintLine("sigaction refused a handler for:" + refused);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, ParkedWaiterMain, nullptr) != 0) {
    scenario::Fail("pthread_create");
  }
  while (!g_started.load()) usleep(1000);
  PrintLine("ready");
  scenario::AwaitTrigger(trigger);

  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    if (sigqueue(getpid(), signal, sigval{.sival_int = signal}) != 0) {
      PrintLine("sigqueue " + SignalName(signal) + " errno=" + scenario::ErrnoName(errno));
    }
  }
  // Main blocks none of them, so each is normally handled before sigqueue returns; waiting for
  // all (bounded), then a little longer, also shows a delivery that came twice.
  for (int i = 0; i < 5000; ++i) {
    bool all = true;
    for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) all &= g_handled[signal].load() > 0;
    if (all) break;
    usleep(1000);
  }
  usleep(100'000);
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) {
    std::string line = SignalName(signal) + " handled=" + std::to_string(g_handled[signal].load());
    if (g_code_seen[signal][0].load()) line += " si_code=SI_QUEUE,value=signal";
    if (g_code_seen[signal][1].load()) line += " si_code=SI_QUEUE,other_value";
    if (g_code_seen[signal][2].load()) line += " si_code=other";
    PrintLine(line);
  }
  pthread_mutex_lock(&g_mutex);
  g_release = true;
  pthread_cond_signal(&g_condition);
  pthread_mutex_unlock(&g_mutex);
  pthread_join(thread, nullptr);
  PrintLine("done");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODE TRIGGER_FIFO\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "signal_thread") return SignalThread();
  if (mode == "reset_dispositions") return ResetDispositions(argv[2]);
  if (mode == "rt_handlers") return RealtimeHandlers(argv[2]);
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
