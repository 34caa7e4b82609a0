// Where each object's calls of pthread_mutex_lock and mtx_lock go. For every GOT slot of the two
// functions (JUMP_SLOT and GLOB_DAT relocations, read from each object's file with libelf) one
// line: the object, the relocation, the function and what the slot holds — "libc", or the file
// name of the object it points into (the shim, an interposer, the object's own PLT while
// unbound). Every object calls the functions first, so without the shim each slot is bound.
// Then whether pthread_mutex_lock has one address wherever the program looks: a GOT slot, a
// pointer in data, dlsym().
// Usage: lock_binding LATE_LIBRARY [--sandboxed]: LATE_LIBRARY is dlopen()ed after start-up;
// --sandboxed runs the program again behind a seccomp filter that refuses every mprotect making
// memory writable (EPERM) and kills the process for process_vm_writev (as root, with 600
// supplementary groups). Exit 0 when every lock
// worked.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <grp.h>
#include <libelf.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

#include "tests/common/seccomp_filter.h"

int binding_now_lock(void);     // lock_binding_now.c, linked with -z now (its GOT is read-only)
int binding_lazy_lock(void);    // lock_binding_lazy.c, linked with -z lazy
int binding_hooked_lock(void);  // lock_binding_hooked.c: its own calls counted by its own hook
void* binding_address(void);    // lock_binding_address.c: &pthread_mutex_lock there
extern int (*binding_data_pointer)(pthread_mutex_t*);  // lock_binding_address.c

static const char* const kFunctions[] = {"pthread_mutex_lock", "mtx_lock"};

static const char* BaseName(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

static const char* WhatSlotHolds(void* value, const char* function) {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  void* libc_function = libc != NULL ? dlsym(libc, function) : NULL;
  if (libc != NULL) dlclose(libc);
  if (value == libc_function) return "libc";
  Dl_info info;
  if (dladdr(value, &info) == 0 || info.dli_fname == NULL) return "nowhere";
  return BaseName(info.dli_fname);
}

static void PrintSlots(const char* object, const char* file, uintptr_t base) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  Elf* elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
  if (elf == NULL) {
    printf("%s: cannot read %s\n", object, file);
    if (fd >= 0) close(fd);
    return;
  }
  for (Elf_Scn* section = elf_nextscn(elf, NULL); section != NULL;
       section = elf_nextscn(elf, section)) {
    GElf_Shdr header;
    if (gelf_getshdr(section, &header) == NULL || header.sh_type != SHT_RELA) continue;
    Elf_Scn* symbol_section = elf_getscn(elf, header.sh_link);
    GElf_Shdr symbol_header;
    if (symbol_section == NULL || gelf_getshdr(symbol_section, &symbol_header) == NULL) continue;
    Elf_Data* relocations = elf_getdata(section, NULL);
    Elf_Data* symbols = elf_getdata(symbol_section, NULL);
    for (size_t i = 0;
         relocations != NULL && symbols != NULL && i < header.sh_size / header.sh_entsize; ++i) {
      GElf_Rela relocation;
      GElf_Sym symbol;
      if (gelf_getrela(relocations, (int)i, &relocation) == NULL) continue;
      const unsigned type = GELF_R_TYPE(relocation.r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      if (gelf_getsym(symbols, (int)GELF_R_SYM(relocation.r_info), &symbol) == NULL) continue;
      const char* name = elf_strptr(elf, symbol_header.sh_link, symbol.st_name);
      for (size_t f = 0; name != NULL && f < sizeof(kFunctions) / sizeof(kFunctions[0]); ++f) {
        if (strcmp(name, kFunctions[f]) != 0) continue;
        void* value = *(void* volatile*)(base + relocation.r_offset);
        printf("%s %s %s %s\n", object, type == R_X86_64_JUMP_SLOT ? "JUMP_SLOT" : "GLOB_DAT", name,
               WhatSlotHolds(value, name));
      }
    }
  }
  elf_end(elf);
  close(fd);
}

// The program's own file, read for its relocations: its argv[0] (a path here), which names it
// also when ld.so was run itself (/proc/self/exe would be ld.so then).
static const char* g_program_path;

static int PrintObject(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  int* first = data;  // the program is listed first
  const char* name = BaseName(info->dlpi_name);
  if (*first) {
    PrintSlots("program", g_program_path, info->dlpi_addr);
  } else if (strncmp(name, "liblock_binding", 15) == 0) {
    PrintSlots(name, info->dlpi_name, info->dlpi_addr);
  }
  *first = 0;
  return 0;
}

// Execs the program again (with LATE_LIBRARY alone) behind the filter; returns only on failure.
static int RunSandboxed(char** argv) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_WRITE, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  // As root, 600 supplementary groups first: /proc/self/status's Groups: line then runs past
  // 4 KiB before the Seccomp: line.
  static gid_t groups[600];
  for (int i = 0; i < 600; ++i) groups[i] = (gid_t)(100000 + i);
  if (geteuid() == 0 && setgroups(600, groups) != 0) printf("setgroups: %s\n", strerror(errno));
  if (InstallSeccompFilter(filter, sizeof filter / sizeof filter[0]) != 0) {
    printf("seccomp unavailable: %s\n", strerror(errno));
    return 3;
  }
  char* again[] = {argv[0], argv[1], NULL};
  execv("/proc/self/exe", again);
  printf("exec: %s\n", strerror(errno));
  return 3;
}

// The loader's rendezvous, referred to as debug-aware programs do: the program gets a copy of
// it (a copy relocation), which is what a lookup of _r_debug finds; the loader's is elsewhere.
int DebugVersion(void) {
  return _r_debug.r_version;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[2], "--sandboxed") == 0) return RunSandboxed(argv);
  if (argc != 2) {
    fprintf(stderr, "usage: lock_binding LATE_LIBRARY [--sandboxed]\n");
    return 2;
  }
  int failures = 0;
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  failures += pthread_mutex_lock(&mutex) != 0;
  pthread_mutex_unlock(&mutex);
  failures += binding_data_pointer(&mutex) != 0;
  pthread_mutex_unlock(&mutex);
  mtx_t c11_mutex;
  failures += mtx_init(&c11_mutex, mtx_plain) != thrd_success;
  failures += mtx_lock(&c11_mutex) != thrd_success;
  mtx_unlock(&c11_mutex);
  mtx_destroy(&c11_mutex);
  failures += binding_now_lock() != 0;
  failures += binding_lazy_lock() != 0;
  printf("hooked calls counted %d\n", binding_hooked_lock());
  void* late = dlopen(argv[1], RTLD_NOW);
  int (*late_lock)(void) = late != NULL ? (int (*)(void))dlsym(late, "binding_late_lock") : NULL;
  failures += late_lock == NULL || late_lock() != 0;
  elf_version(EV_CURRENT);
  if (DebugVersion() < 1) printf("no r_debug\n");
  int first = 1;
  g_program_path = argv[0];
  dl_iterate_phdr(PrintObject, &first);
  void* address = binding_address();
  const int one_address = address == (void*)binding_data_pointer &&
                          address == dlsym(RTLD_DEFAULT, "pthread_mutex_lock");
  printf("one address %s\n", one_address ? "yes" : "no");
  printf("failures %d\n", failures);
  return failures == 0 ? 0 : 1;
}
