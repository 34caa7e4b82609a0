// Installs a seccomp filter on the calling thread, inherited by the threads and programs it
// starts; no new privileges first, as an unprivileged process must. For test programs in C or
// C++. Returns 0, or -1 with errno set.
#ifndef THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_
#define THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

static inline int InstallSeccompFilter(struct sock_filter* filter, unsigned short count) {
  struct sock_fprog program = {count, filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}

// A filter that answers one system call with `action` (SECCOMP_RET_KILL_PROCESS, or
// SECCOMP_RET_ERRNO | an errno value) and allows every other.
static inline int InstallSeccompFilterOn(unsigned syscall_number, unsigned action) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, syscall_number, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return InstallSeccompFilter(filter, sizeof filter / sizeof filter[0]);
}

#endif  // THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_
