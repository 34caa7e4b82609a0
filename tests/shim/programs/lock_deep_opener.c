// Part of lock_deep.c: a library whose constructor — run before the shim's — opens the plugin
// named by LOCK_DEEP_PLUGIN with RTLD_LAZY | RTLD_DEEPBIND.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

void* deep_plugin;

__attribute__((constructor)) static void OpenPlugin(void) {
  const char* path = getenv("LOCK_DEEP_PLUGIN");
  if (path != NULL) deep_plugin = dlopen(path, RTLD_LAZY | RTLD_DEEPBIND);
}
