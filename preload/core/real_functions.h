// The libc functions behind each hook, resolved once with dlsym(RTLD_NEXT) — with dlvsym where
// glibc exports several incompatible versions of one name (the condvar functions, see
// ../shared/DESIGN.md). One line per symbol.
//
// Real() is safe to call from any hook at any time, including before the shim's constructor ran
// (another library's constructor may create a thread first): it resolves on first use.
#ifndef THREADLEAK_PRELOAD_CORE_REAL_FUNCTIONS_H_
#define THREADLEAK_PRELOAD_CORE_REAL_FUNCTIONS_H_

#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace threadleak {

using MainFn = int (*)(int, char**, char**);
using LibcStartMainFn = int (*)(MainFn, int, char**, void (*)(), void (*)(), void (*)(), void*);
using ExitFn = void (*)(int);
using SyscallFn = long (*)(long, ...);
using CondWaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*);
using CondTimedWaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*, const timespec*);
using CondSignalFn = int (*)(pthread_cond_t*);
using CxaAtexitFn = int (*)(void (*)(void*), void*, void*);
using PollChkFn = int (*)(pollfd*, nfds_t, int, size_t);
using PrctlFn = int (*)(int, unsigned long, unsigned long, unsigned long, unsigned long);
using ReadChkFn = ssize_t (*)(int, void*, size_t, size_t);
using RecvChkFn = ssize_t (*)(int, void*, size_t, size_t, int);
using LongjmpFn = void (*)(__jmp_buf_tag*, int);

// X(member, symbol, version or nullptr, type)
#define THREADLEAK_REAL_FUNCTIONS(X)                                                             \
  X(libc_start_main, "__libc_start_main", nullptr, LibcStartMainFn)                              \
  X(exit, "exit", nullptr, ExitFn)                                                               \
  X(_Fork, "_Fork", nullptr, decltype(&::_Fork))                                                 \
  X(dlclose, "dlclose", nullptr, decltype(&::dlclose))                                           \
  X(pthread_create, "pthread_create", nullptr, decltype(&::pthread_create))                      \
  X(pthread_join, "pthread_join", nullptr, decltype(&::pthread_join))                            \
  X(pthread_tryjoin_np, "pthread_tryjoin_np", nullptr, decltype(&::pthread_tryjoin_np))          \
  X(pthread_timedjoin_np, "pthread_timedjoin_np", nullptr, decltype(&::pthread_timedjoin_np))    \
  X(pthread_clockjoin_np, "pthread_clockjoin_np", nullptr, decltype(&::pthread_clockjoin_np))    \
  X(pthread_detach, "pthread_detach", nullptr, decltype(&::pthread_detach))                      \
  X(pthread_setname_np, "pthread_setname_np", nullptr, decltype(&::pthread_setname_np))          \
  X(thrd_create, "thrd_create", nullptr, decltype(&::thrd_create))                               \
  X(thrd_join, "thrd_join", nullptr, decltype(&::thrd_join))                                     \
  X(thrd_detach, "thrd_detach", nullptr, decltype(&::thrd_detach))                               \
  X(pthread_key_create, "pthread_key_create", nullptr, decltype(&::pthread_key_create))          \
  X(__pthread_key_create, "__pthread_key_create", nullptr, decltype(&::pthread_key_create))      \
  X(pthread_key_delete, "pthread_key_delete", nullptr, decltype(&::pthread_key_delete))          \
  X(tss_create, "tss_create", nullptr, decltype(&::tss_create))                                  \
  X(tss_delete, "tss_delete", nullptr, decltype(&::tss_delete))                                  \
  X(pthread_once, "pthread_once", nullptr, decltype(&::pthread_once))                            \
  X(call_once, "call_once", nullptr, decltype(&::call_once))                                     \
  X(mtx_lock, "mtx_lock", nullptr, decltype(&::mtx_lock))                                        \
  X(mtx_timedlock, "mtx_timedlock", nullptr, decltype(&::mtx_timedlock))                         \
  X(cnd_wait, "cnd_wait", nullptr, decltype(&::cnd_wait))                                        \
  X(cnd_timedwait, "cnd_timedwait", nullptr, decltype(&::cnd_timedwait))                         \
  X(cnd_signal, "cnd_signal", nullptr, decltype(&::cnd_signal))                                  \
  X(cnd_broadcast, "cnd_broadcast", nullptr, decltype(&::cnd_broadcast))                         \
  X(pthread_mutex_lock, "pthread_mutex_lock", nullptr, decltype(&::pthread_mutex_lock))          \
  X(pthread_mutex_trylock, "pthread_mutex_trylock", nullptr, decltype(&::pthread_mutex_trylock)) \
  X(pthread_mutex_timedlock, "pthread_mutex_timedlock", nullptr,                                 \
    decltype(&::pthread_mutex_timedlock))                                                        \
  X(pthread_mutex_clocklock, "pthread_mutex_clocklock", nullptr,                                 \
    decltype(&::pthread_mutex_clocklock))                                                        \
  X(pthread_cond_wait, "pthread_cond_wait", "GLIBC_2.3.2", CondWaitFn)                           \
  X(pthread_cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2", CondTimedWaitFn)            \
  X(pthread_cond_wait_2_2_5, "pthread_cond_wait", "GLIBC_2.2.5", CondWaitFn)                     \
  X(pthread_cond_timedwait_2_2_5, "pthread_cond_timedwait", "GLIBC_2.2.5", CondTimedWaitFn)      \
  X(pthread_cond_signal, "pthread_cond_signal", "GLIBC_2.3.2", CondSignalFn)                     \
  X(pthread_cond_broadcast, "pthread_cond_broadcast", "GLIBC_2.3.2", CondSignalFn)               \
  X(pthread_cond_signal_2_2_5, "pthread_cond_signal", "GLIBC_2.2.5", CondSignalFn)               \
  X(pthread_cond_broadcast_2_2_5, "pthread_cond_broadcast", "GLIBC_2.2.5", CondSignalFn)         \
  X(pthread_cond_clockwait, "pthread_cond_clockwait", nullptr,                                   \
    decltype(&::pthread_cond_clockwait))                                                         \
  X(pthread_rwlock_rdlock, "pthread_rwlock_rdlock", nullptr, decltype(&::pthread_rwlock_rdlock)) \
  X(pthread_rwlock_tryrdlock, "pthread_rwlock_tryrdlock", nullptr,                               \
    decltype(&::pthread_rwlock_tryrdlock))                                                       \
  X(pthread_rwlock_timedrdlock, "pthread_rwlock_timedrdlock", nullptr,                           \
    decltype(&::pthread_rwlock_timedrdlock))                                                     \
  X(pthread_rwlock_clockrdlock, "pthread_rwlock_clockrdlock", nullptr,                           \
    decltype(&::pthread_rwlock_clockrdlock))                                                     \
  X(pthread_rwlock_wrlock, "pthread_rwlock_wrlock", nullptr, decltype(&::pthread_rwlock_wrlock)) \
  X(pthread_rwlock_trywrlock, "pthread_rwlock_trywrlock", nullptr,                               \
    decltype(&::pthread_rwlock_trywrlock))                                                       \
  X(pthread_rwlock_timedwrlock, "pthread_rwlock_timedwrlock", nullptr,                           \
    decltype(&::pthread_rwlock_timedwrlock))                                                     \
  X(pthread_rwlock_clockwrlock, "pthread_rwlock_clockwrlock", nullptr,                           \
    decltype(&::pthread_rwlock_clockwrlock))                                                     \
  X(pthread_barrier_wait, "pthread_barrier_wait", nullptr, decltype(&::pthread_barrier_wait))    \
  X(sem_wait, "sem_wait", nullptr, decltype(&::sem_wait))                                        \
  X(sem_timedwait, "sem_timedwait", nullptr, decltype(&::sem_timedwait))                         \
  X(sem_clockwait, "sem_clockwait", nullptr, decltype(&::sem_clockwait))                         \
  X(sem_post, "sem_post", nullptr, decltype(&::sem_post))                                        \
  X(cxa_atexit, "__cxa_atexit", nullptr, CxaAtexitFn)                                            \
  X(syscall, "syscall", nullptr, SyscallFn)                                                      \
  X(longjmp, "longjmp", nullptr, LongjmpFn)                                                      \
  X(_longjmp, "_longjmp", nullptr, LongjmpFn)                                                    \
  X(siglongjmp, "siglongjmp", nullptr, LongjmpFn)                                                \
  X(longjmp_chk, "__longjmp_chk", nullptr, LongjmpFn)                                            \
  X(nanosleep, "nanosleep", nullptr, decltype(&::nanosleep))                                     \
  X(clock_nanosleep, "clock_nanosleep", nullptr, decltype(&::clock_nanosleep))                   \
  X(usleep, "usleep", nullptr, decltype(&::usleep))                                              \
  X(sleep, "sleep", nullptr, decltype(&::sleep))                                                 \
  X(poll, "poll", nullptr, decltype(&::poll))                                                    \
  X(__poll_chk, "__poll_chk", nullptr, PollChkFn)                                                \
  X(ppoll, "ppoll", nullptr, decltype(&::ppoll))                                                 \
  X(epoll_wait, "epoll_wait", nullptr, decltype(&::epoll_wait))                                  \
  X(epoll_pwait, "epoll_pwait", nullptr, decltype(&::epoll_pwait))                               \
  X(select, "select", nullptr, decltype(&::select))                                              \
  X(pselect, "pselect", nullptr, decltype(&::pselect))                                           \
  X(pause, "pause", nullptr, decltype(&::pause))                                                 \
  X(sigsuspend, "sigsuspend", nullptr, decltype(&::sigsuspend))                                  \
  X(sigwaitinfo, "sigwaitinfo", nullptr, decltype(&::sigwaitinfo))                               \
  X(sigtimedwait, "sigtimedwait", nullptr, decltype(&::sigtimedwait))                            \
  X(sigwait, "sigwait", nullptr, decltype(&::sigwait))                                           \
  X(waitpid, "waitpid", nullptr, decltype(&::waitpid))                                           \
  X(wait, "wait", nullptr, decltype(&::wait))                                                    \
  X(wait4, "wait4", nullptr, decltype(&::wait4))                                                 \
  X(waitid, "waitid", nullptr, decltype(&::waitid))                                              \
  X(read, "read", nullptr, decltype(&::read))                                                    \
  X(__read_chk, "__read_chk", nullptr, ReadChkFn)                                                \
  X(readv, "readv", nullptr, decltype(&::readv))                                                 \
  X(write, "write", nullptr, decltype(&::write))                                                 \
  X(writev, "writev", nullptr, decltype(&::writev))                                              \
  X(recv, "recv", nullptr, decltype(&::recv))                                                    \
  X(__recv_chk, "__recv_chk", nullptr, RecvChkFn)                                                \
  X(recvfrom, "recvfrom", nullptr, decltype(&::recvfrom))                                        \
  X(recvmsg, "recvmsg", nullptr, decltype(&::recvmsg))                                           \
  X(send, "send", nullptr, decltype(&::send))                                                    \
  X(sendto, "sendto", nullptr, decltype(&::sendto))                                              \
  X(sendmsg, "sendmsg", nullptr, decltype(&::sendmsg))                                           \
  X(accept, "accept", nullptr, decltype(&::accept))                                              \
  X(accept4, "accept4", nullptr, decltype(&::accept4))                                           \
  X(connect, "connect", nullptr, decltype(&::connect))                                           \
  X(msgrcv, "msgrcv", nullptr, decltype(&::msgrcv))                                              \
  X(msgsnd, "msgsnd", nullptr, decltype(&::msgsnd))                                              \
  X(semop, "semop", nullptr, decltype(&::semop))                                                 \
  X(semtimedop, "semtimedop", nullptr, decltype(&::semtimedop))                                  \
  X(sigaction, "sigaction", nullptr, decltype(&::sigaction))                                     \
  X(sigaltstack, "sigaltstack", nullptr, decltype(&::sigaltstack))                               \
  X(signal, "signal", nullptr, decltype(&::signal))                                              \
  X(unshare, "unshare", nullptr, decltype(&::unshare))                                           \
  X(setns, "setns", nullptr, decltype(&::setns))                                                 \
  X(prctl, "prctl", nullptr, PrctlFn)

struct RealFunctions {
#define THREADLEAK_DECLARE_MEMBER(member, symbol, version, type) type member;
  THREADLEAK_REAL_FUNCTIONS(THREADLEAK_DECLARE_MEMBER)
#undef THREADLEAK_DECLARE_MEMBER
};

extern RealFunctions g_real_functions;
extern std::atomic<bool> g_real_functions_resolved;

// Resolves every entry. Idempotent and thread-safe (each entry is stored atomically, one at a
// time, before the resolved flag; racing resolvers write the same values).
void ResolveRealFunctions();

inline const RealFunctions& Real() {
  if (__builtin_expect(!g_real_functions_resolved.load(std::memory_order_acquire), 0)) {
    ResolveRealFunctions();
  }
  return g_real_functions;
}

// One entry of the table, or null until the resolver has stored it: for a hot hook, a null check
// on the pointer it loads anyway instead of a second load of the resolved flag.
template <auto kMember>
inline auto RealOrNull() {
  return __atomic_load_n(&(g_real_functions.*kMember), __ATOMIC_RELAXED);
}

// Sleeps through libc's own nanosleep, not the hooked one (no wait slot of the tool's in it).
inline void SleepNanos(int64_t nanos) {
  timespec pause = {static_cast<time_t>(nanos / 1'000'000'000),
                    static_cast<long>(nanos % 1'000'000'000)};
  Real().nanosleep(&pause, nullptr);
}

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CORE_REAL_FUNCTIONS_H_
