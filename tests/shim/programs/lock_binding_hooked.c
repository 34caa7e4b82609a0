// Part of lock_binding.c: a library that counts its own lock calls by pointing its own PLT slot
// of pthread_mutex_lock at a wrapper of its own, from its constructor, as PLT-hooking tools do
// (linked with -z lazy: the slot's page stays writable). The shim must leave that slot alone.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

static int (*g_next_lock)(pthread_mutex_t*);
static int g_counted;

static int CountingLock(pthread_mutex_t* mutex) {
  ++g_counted;
  return g_next_lock(mutex);
}

static int HookOwnSlot(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  (void)data;
  if (strstr(info->dlpi_name, "liblock_binding_hooked") == NULL) return 0;
  const ElfW(Dyn)* dynamic = NULL;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC) {
      dynamic = (const ElfW(Dyn)*)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    }
  }
  const ElfW(Sym)* symbols = NULL;
  const char* names = NULL;
  const ElfW(Rela)* plt = NULL;
  size_t plt_bytes = 0;
  for (; dynamic != NULL && dynamic->d_tag != DT_NULL; ++dynamic) {
    if (dynamic->d_tag == DT_SYMTAB) symbols = (const ElfW(Sym)*)dynamic->d_un.d_ptr;
    if (dynamic->d_tag == DT_STRTAB) names = (const char*)dynamic->d_un.d_ptr;
    if (dynamic->d_tag == DT_JMPREL) plt = (const ElfW(Rela)*)dynamic->d_un.d_ptr;
    if (dynamic->d_tag == DT_PLTRELSZ) plt_bytes = dynamic->d_un.d_val;
  }
  for (size_t i = 0; plt != NULL && i < plt_bytes / sizeof(*plt); ++i) {
    if (strcmp(names + symbols[ELF64_R_SYM(plt[i].r_info)].st_name, "pthread_mutex_lock") == 0) {
      *(void**)(info->dlpi_addr + plt[i].r_offset) = (void*)CountingLock;
    }
  }
  return 1;
}

__attribute__((constructor)) static void HookOwnLocks(void) {
  g_next_lock = (int (*)(pthread_mutex_t*))dlsym(RTLD_NEXT, "pthread_mutex_lock");
  dl_iterate_phdr(HookOwnSlot, NULL);
}

// Takes a lock five times; returns how many of those calls its wrapper counted.
int binding_hooked_lock(void) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  g_counted = 0;
  for (int i = 0; i < 5; ++i) {
    if (pthread_mutex_lock(&mutex) != 0) return -1;
    pthread_mutex_unlock(&mutex);
  }
  return g_counted;
}
