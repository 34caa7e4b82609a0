// dlopen_library PLUGIN.so leak|fixed
//
// Loads a plugin with dlopen and starts it; the plugin starts a thread of its own. The fixed
// variant stops the plugin and unloads it; the leaky one forgets to stop it (and so must keep it
// loaded: its thread runs the plugin's code).
#include <dlfcn.h>

#include <cstdio>

#include "common.h"

int main(int argc, char** argv) {
  e2e::Variant variant;
  if (argc != 3 || !e2e::ParseVariant(argv[2], &variant)) {
    std::fprintf(stderr, "usage: dlopen_library PLUGIN.so leak|fixed\n");
    return 2;
  }
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == nullptr) e2e::Die(dlerror());
  auto start = reinterpret_cast<void (*)()>(dlsym(plugin, "e2e_plugin_start"));
  auto stop = reinterpret_cast<void (*)()>(dlsym(plugin, "e2e_plugin_stop"));
  if (start == nullptr || stop == nullptr) e2e::Die("the plugin lacks e2e_plugin_start/stop");

  start();
  if (variant == e2e::Variant::kFixed) {
    stop();
    dlclose(plugin);
  }
  return 0;
}
