// Hooks for sleeps and blocking system calls: each fills the caller's wait slot (wait_scope.h),
// calls libc and clears the slot. Nothing else: the call, its result, errno and any time left
// are libc's own. The slot is what lets a report unwind a thread blocked here from another
// thread, with the caller's frame pointer known; a system call no hook sees is unwound from the
// sp and pc the kernel shows, where frames that need the frame pointer end the walk.
//
// I/O waits are recorded without a clock read (WaitScope::Untimed): a server's read or accept
// is on its hot path, and the watchdog ignores I/O (a thread waiting for a client is idle, not
// stuck).
//
// Everything here runs on the program's hot paths: no locks, no allocation, errno preserved.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/core/real_functions.h"
#include "preload/core/wait_scope.h"
#include "preload/hooks/export.h"

using namespace threadleak;

namespace {

template <typename Fn, typename... Args>
auto Sleeping(Fn real, Args... args) {
  WaitScope wait(TL_STATE_SLEEP, nullptr, real);
  return real(args...);
}

template <typename Fn, typename... Args>
auto InIo(Fn real, Args... args) {
  WaitScope wait(TL_STATE_IO, nullptr, real, WaitScope::Untimed{});
  return real(args...);
}

}  // namespace

// One exported hook per line: (return type, name, parameters, arguments).
#define THREADLEAK_SLEEP_HOOK(type, name, parameters, arguments) \
  THREADLEAK_EXPORT type name parameters {                       \
    return Sleeping(Real().name, arguments);                     \
  }
#define THREADLEAK_IO_HOOK(type, name, parameters, arguments) \
  THREADLEAK_EXPORT type name parameters {                    \
    return InIo(Real().name, arguments);                      \
  }
#define ARGS(...) __VA_ARGS__

// --- sleeps ----------------------------------------------------------------------------------

THREADLEAK_SLEEP_HOOK(int, nanosleep, (const timespec* duration, timespec* remaining),
                      ARGS(duration, remaining))
THREADLEAK_SLEEP_HOOK(int, clock_nanosleep,
                      (clockid_t clock, int flags, const timespec* duration, timespec* remaining),
                      ARGS(clock, flags, duration, remaining))
THREADLEAK_SLEEP_HOOK(int, usleep, (useconds_t microseconds), ARGS(microseconds))
THREADLEAK_SLEEP_HOOK(unsigned int, sleep, (unsigned int seconds), ARGS(seconds))

// --- waiting for descriptors, signals and children ------------------------------------------

THREADLEAK_IO_HOOK(int, poll, (pollfd * fds, nfds_t count, int timeout_ms),
                   ARGS(fds, count, timeout_ms))
THREADLEAK_IO_HOOK(int, __poll_chk, (pollfd * fds, nfds_t count, int timeout_ms, size_t size),
                   ARGS(fds, count, timeout_ms, size))
THREADLEAK_IO_HOOK(int, ppoll,
                   (pollfd * fds, nfds_t count, const timespec* timeout, const sigset_t* mask),
                   ARGS(fds, count, timeout, mask))
THREADLEAK_IO_HOOK(int, epoll_wait, (int epoll, epoll_event* events, int max, int timeout_ms),
                   ARGS(epoll, events, max, timeout_ms))
THREADLEAK_IO_HOOK(int, epoll_pwait,
                   (int epoll, epoll_event* events, int max, int timeout_ms, const sigset_t* mask),
                   ARGS(epoll, events, max, timeout_ms, mask))
THREADLEAK_IO_HOOK(int, select,
                   (int count, fd_set* readable, fd_set* writable, fd_set* errors,
                    timeval* timeout),
                   ARGS(count, readable, writable, errors, timeout))
THREADLEAK_IO_HOOK(int, pselect,
                   (int count, fd_set* readable, fd_set* writable, fd_set* errors,
                    const timespec* timeout, const sigset_t* mask),
                   ARGS(count, readable, writable, errors, timeout, mask))
THREADLEAK_EXPORT int pause() {
  return InIo(Real().pause);
}
THREADLEAK_IO_HOOK(int, sigsuspend, (const sigset_t* mask), ARGS(mask))
THREADLEAK_IO_HOOK(int, sigwaitinfo, (const sigset_t* set, siginfo_t* info), ARGS(set, info))
THREADLEAK_IO_HOOK(int, sigtimedwait,
                   (const sigset_t* set, siginfo_t* info, const timespec* timeout),
                   ARGS(set, info, timeout))
THREADLEAK_IO_HOOK(int, sigwait, (const sigset_t* set, int* signal), ARGS(set, signal))
THREADLEAK_IO_HOOK(pid_t, waitpid, (pid_t pid, int* status, int options),
                   ARGS(pid, status, options))
THREADLEAK_IO_HOOK(pid_t, wait, (int* status), ARGS(status))
THREADLEAK_IO_HOOK(pid_t, wait4, (pid_t pid, int* status, int options, struct rusage* usage),
                   ARGS(pid, status, options, usage))
THREADLEAK_IO_HOOK(int, waitid, (idtype_t type, id_t id, siginfo_t* info, int options),
                   ARGS(type, id, info, options))

// --- reading, writing, sockets and System V IPC ---------------------------------------------

THREADLEAK_IO_HOOK(ssize_t, read, (int fd, void* buffer, size_t size), ARGS(fd, buffer, size))
THREADLEAK_IO_HOOK(ssize_t, __read_chk, (int fd, void* buffer, size_t size, size_t buffer_size),
                   ARGS(fd, buffer, size, buffer_size))
THREADLEAK_IO_HOOK(ssize_t, readv, (int fd, const iovec* vectors, int count),
                   ARGS(fd, vectors, count))
THREADLEAK_IO_HOOK(ssize_t, write, (int fd, const void* buffer, size_t size),
                   ARGS(fd, buffer, size))
THREADLEAK_IO_HOOK(ssize_t, writev, (int fd, const iovec* vectors, int count),
                   ARGS(fd, vectors, count))
THREADLEAK_IO_HOOK(ssize_t, recv, (int fd, void* buffer, size_t size, int flags),
                   ARGS(fd, buffer, size, flags))
THREADLEAK_IO_HOOK(ssize_t, __recv_chk,
                   (int fd, void* buffer, size_t size, size_t buffer_size, int flags),
                   ARGS(fd, buffer, size, buffer_size, flags))
THREADLEAK_IO_HOOK(ssize_t, recvfrom,
                   (int fd, void* buffer, size_t size, int flags, sockaddr* from,
                    socklen_t* from_size),
                   ARGS(fd, buffer, size, flags, from, from_size))
THREADLEAK_IO_HOOK(ssize_t, recvmsg, (int fd, msghdr* message, int flags), ARGS(fd, message, flags))
THREADLEAK_IO_HOOK(ssize_t, send, (int fd, const void* buffer, size_t size, int flags),
                   ARGS(fd, buffer, size, flags))
THREADLEAK_IO_HOOK(ssize_t, sendto,
                   (int fd, const void* buffer, size_t size, int flags, const sockaddr* to,
                    socklen_t to_size),
                   ARGS(fd, buffer, size, flags, to, to_size))
THREADLEAK_IO_HOOK(ssize_t, sendmsg, (int fd, const msghdr* message, int flags),
                   ARGS(fd, message, flags))
THREADLEAK_IO_HOOK(int, accept, (int fd, sockaddr* address, socklen_t* size),
                   ARGS(fd, address, size))
THREADLEAK_IO_HOOK(int, accept4, (int fd, sockaddr* address, socklen_t* size, int flags),
                   ARGS(fd, address, size, flags))
THREADLEAK_IO_HOOK(int, connect, (int fd, const sockaddr* address, socklen_t size),
                   ARGS(fd, address, size))
THREADLEAK_IO_HOOK(ssize_t, msgrcv, (int queue, void* message, size_t size, long type, int flags),
                   ARGS(queue, message, size, type, flags))
THREADLEAK_IO_HOOK(int, msgsnd, (int queue, const void* message, size_t size, int flags),
                   ARGS(queue, message, size, flags))
THREADLEAK_IO_HOOK(int, semop, (int set, sembuf* operations, size_t count),
                   ARGS(set, operations, count))
THREADLEAK_IO_HOOK(int, semtimedop,
                   (int set, sembuf* operations, size_t count, const timespec* timeout),
                   ARGS(set, operations, count, timeout))
