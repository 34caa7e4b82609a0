// static_constructor leak|fixed
//
// A global object's constructor starts a thread before main runs; the thread waits for refresh
// requests that never come. The fixed variant shuts the cache down before main returns; the
// leaky one forgets to. The thread's state is heap-allocated and never freed while it may run,
// so static destruction neither touches it nor destroys a std::thread still joinable.
#include <cstdio>
#include <thread>

#include "channel.h"
#include "common.h"

namespace {

class BackgroundCache {
 public:
  E2E_NOINLINE BackgroundCache() : state_(new State()) {
    state_->refresher = std::thread(Refresh, state_);
  }

  void AwaitIdle() { state_->requests.AwaitBlockedReceivers(1); }

  void Shutdown() {
    state_->requests.Close();
    state_->refresher.join();
    delete state_;
    state_ = nullptr;
  }

 private:
  struct State {
    e2e::Channel<int> requests;
    std::thread refresher;
    long refreshed = 0;
  };

  E2E_NOINLINE static void Refresh(State* state) {
    e2e::NameThisThread("cache-refresh");
    for (int key : state->requests) state->refreshed += key;
    E2E_KEEP_FRAME();
  }

  State* state_;
};

BackgroundCache g_cache;

}  // namespace

int main(int argc, char** argv) {
  e2e::Variant variant;
  if (argc != 2 || !e2e::ParseVariant(argv[1], &variant)) {
    std::fprintf(stderr, "usage: static_constructor leak|fixed\n");
    return 2;
  }
  g_cache.AwaitIdle();
  if (variant == e2e::Variant::kFixed) g_cache.Shutdown();
  return 0;
}
