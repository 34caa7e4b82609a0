// Installs a seccomp filter on the calling thread, inherited by the threads and programs it
// starts; no new privileges first, as an unprivileged process must. For test programs in C or
// C++. Returns 0, or -1 with errno set.
#ifndef THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_
#define THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

static inline int InstallSeccompFilter(struct sock_filter* filter, unsigned short count) {
  struct sock_fprog program = {count, filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}

#endif  // THREADLEAK_TESTS_COMMON_SECCOMP_FILTER_H_
