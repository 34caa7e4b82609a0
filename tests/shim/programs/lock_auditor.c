// An LD_AUDIT module for the lock binding test: it asks to see every PLT call (la_pltenter), so
// the loader keeps PLT slots unbound and each call goes through the auditor. The shim must leave
// them so.
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>

unsigned la_version(unsigned version) {
  return version;
}

unsigned la_objopen(struct link_map* map, Lmid_t namespace_id, uintptr_t* cookie) {
  (void)map;
  (void)namespace_id;
  (void)cookie;
  return LA_FLG_BINDTO | LA_FLG_BINDFROM;
}

ElfW(Addr) la_x86_64_gnu_pltenter(ElfW(Sym) * symbol, unsigned index, uintptr_t* referrer,
                                  uintptr_t* definer, La_x86_64_regs* registers, unsigned* flags,
                                  const char* name, long* frame_size) {
  (void)index;
  (void)referrer;
  (void)definer;
  (void)registers;
  (void)flags;
  (void)name;
  (void)frame_size;
  return symbol->st_value;
}
