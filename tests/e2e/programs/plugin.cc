// A plugin the dlopen_library program loads at run time. Starting it starts an event poller
// thread inside the plugin; only e2e_plugin_stop() ends that thread, and a host that forgets to
// call it leaks the poller. The host must not dlclose the plugin while the poller runs.
#include <thread>

#include "channel.h"
#include "common.h"

namespace plugin {

struct Poller {
  e2e::Channel<int> events;
  std::thread thread;
  long handled = 0;
};

Poller* g_poller = nullptr;

E2E_NOINLINE void PollEvents(Poller* poller) {
  e2e::NameThisThread("plugin-poller");
  for (int event : poller->events) poller->handled += event;
  E2E_KEEP_FRAME();
}

E2E_NOINLINE void StartPoller() {
  g_poller = new Poller();
  g_poller->thread = std::thread(PollEvents, g_poller);
  g_poller->events.AwaitBlockedReceivers(1);
  E2E_KEEP_FRAME();
}

void StopPoller() {
  g_poller->events.Close();
  g_poller->thread.join();
  delete g_poller;
  g_poller = nullptr;
}

}  // namespace plugin

extern "C" __attribute__((visibility("default"))) void e2e_plugin_start() {
  plugin::StartPoller();
}

extern "C" __attribute__((visibility("default"))) void e2e_plugin_stop() {
  plugin::StopPoller();
}
