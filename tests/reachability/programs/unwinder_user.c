// A program that uses libunwind itself (issue 16): threadleak loads the same libunwind.so.8 for
// its creation stacks, and the data in it is threadleak's only while no one else uses it. Here a
// waiter's object is reachable only through libunwind's list of dynamic unwind info, where the
// program registered it (as a JIT does): the proof must see that list as the program's.
//
//   unwinder_user register   registers the waiter's object, then returns from main
//   unwinder_user none       does not: the waiter is abandoned
// Built three times: linked with libunwind (UNWINDER_LINKED: loaded before threadleak's own
// dlopen); not (libunwind opened by the program with dlopen after start); and with a plugin
// (UNWINDER_PLUGIN: a library that needs libunwind, opened after start, registers it: the
// loader counts no second dlopen of libunwind then, only the plugin's DT_NEEDED says it).
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dirent.h>
#include <dlfcn.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct Registered {
  unw_dyn_info_t info;  // first: libunwind's list points here
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int done;
};

static void* Wait(void* arg) {
  struct Registered* r = arg;
  pthread_setname_np(pthread_self(), "dyn-waiter");
  pthread_mutex_lock(&r->mutex);
  while (!r->done) pthread_cond_wait(&r->cond, &r->mutex);
  pthread_mutex_unlock(&r->mutex);
  return NULL;
}

// Until the thread named dyn-waiter is asleep in the kernel.
static void AwaitSleeping(void) {
  for (int tries = 0; tries < 5000; ++tries) {
    DIR* dir = opendir("/proc/self/task");
    int asleep = 0;
    struct dirent* entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
      char path[300], line[512] = {0};
      snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
      FILE* f = fopen(path, "r");
      if (f == NULL) continue;
      if (fgets(line, sizeof line, f) != NULL && strstr(line, "(dyn-waiter) S") != NULL) asleep = 1;
      fclose(f);
    }
    if (dir != NULL) closedir(dir);
    if (asleep) return;
    usleep(1000);
  }
}

static __attribute__((noinline)) void Start(const char* mode) {
  struct Registered* r = calloc(1, sizeof *r);
  pthread_mutex_init(&r->mutex, NULL);
  pthread_cond_init(&r->cond, NULL);
  pthread_t waiter;
  pthread_create(&waiter, NULL, Wait, r);
  pthread_detach(waiter);
  AwaitSleeping();
  // No code range: libunwind never uses the entry, it only keeps it in its list.
  r->info.format = UNW_INFO_FORMAT_DYNAMIC;
#if defined(UNWINDER_LINKED)
  void (*reg)(unw_dyn_info_t*) = _U_dyn_register;
#elif defined(UNWINDER_PLUGIN)
  void* plugin = dlopen(UNWINDER_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  void (*reg)(unw_dyn_info_t*) =
      plugin != NULL ? (void (*)(unw_dyn_info_t*))dlsym(plugin, "plugin_register") : NULL;
  if (reg == NULL) abort();
#else
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  void (*reg)(unw_dyn_info_t*) =
      library != NULL ? (void (*)(unw_dyn_info_t*))dlsym(library, "_U_dyn_register") : NULL;
  if (reg == NULL) abort();
#endif
  if (strcmp(mode, "register") == 0) reg(&r->info);
  r = NULL;  // the list is the only reference left (or none)
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: unwinder_user register|none\n");
    return 2;
  }
  Start(argv[1]);
  return 0;
}
