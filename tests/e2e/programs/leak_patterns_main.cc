// leak_patterns PATTERN leak|fixed [--status N | --exit N]
//
// Runs one leak pattern (patterns.h) in its leaky or fixed variant, then ends: by returning from
// main (status 0, or N with --status), or by calling exit(N) from a helper with --exit.
// Without threadleak the leaky variants also end with that status: main does not wait for the
// threads it leaked.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "patterns.h"

namespace {

struct Pattern {
  const char* name;
  void (*run)(e2e::Variant);
};

constexpr Pattern kPatterns[] = {
    {"forgotten_sender", e2e::ForgottenSender},
    {"forgotten_receiver", e2e::ForgottenReceiver},
    {"premature_return", e2e::PrematureReturn},
    {"timeout", e2e::Timeout},
    {"many_senders_one_reader", e2e::ManySendersOneReader},
    {"consumer_loop_never_closed", e2e::ConsumerLoopNeverClosed},
    {"worker_without_stop", e2e::WorkerWithoutStop},
    {"periodic_loop_without_stop", e2e::PeriodicLoopWithoutStop},
    {"blocked_future", e2e::BlockedFuture},
    {"atomic_wait", e2e::AtomicWait},
    {"posix_semaphore", e2e::PosixSemaphore},
    {"pipe_read", e2e::PipeRead},
    {"barrier_short", e2e::BarrierShort},
    {"join_on_hung", e2e::JoinOnHung},
    {"unjoined_finished", e2e::UnjoinedFinished},
};

int Usage() {
  std::fprintf(stderr, "usage: leak_patterns PATTERN leak|fixed [--status N | --exit N]\n");
  std::fprintf(stderr, "patterns:");
  for (const Pattern& p : kPatterns) std::fprintf(stderr, " %s", p.name);
  std::fprintf(stderr, "\n");
  return 2;
}

// Ends the program through exit() rather than a return from main.
E2E_NOINLINE void ExitFromHelper(int status) {
  std::fflush(stdout);
  std::exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) return Usage();
  const Pattern* pattern = nullptr;
  for (const Pattern& p : kPatterns) {
    if (std::strcmp(p.name, argv[1]) == 0) pattern = &p;
  }
  e2e::Variant variant;
  if (pattern == nullptr || !e2e::ParseVariant(argv[2], &variant)) return Usage();
  const bool use_exit = argc == 5 && std::strcmp(argv[3], "--exit") == 0;
  if (argc == 5 && !use_exit && std::strcmp(argv[3], "--status") != 0) return Usage();
  const int status = argc == 5 ? std::atoi(argv[4]) : 0;

  pattern->run(variant);
  std::printf("%s %s: done\n", pattern->name, argv[2]);
  if (use_exit) ExitFromHelper(status);
  return status;
}
