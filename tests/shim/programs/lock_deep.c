// A plugin opened with RTLD_DEEPBIND before the shim's constructor ran keeps its binding to its
// own dependency's pthread_mutex_lock (lock_deep_*.c). Prints how many of the plugin's five
// lock calls that definition saw. Usage: LOCK_DEEP_PLUGIN=path lock_deep
#include <dlfcn.h>
#include <stdio.h>

extern void* deep_plugin;  // lock_deep_opener.c

int main(void) {
  int (*work)(void) =
      deep_plugin != NULL ? (int (*)(void))dlsym(deep_plugin, "deep_plugin_work") : NULL;
  if (work == NULL) {
    printf("no plugin: %s\n", dlerror());
    return 1;
  }
  printf("the plugin's own dependency saw %d lock calls\n", work());
  return 0;
}
