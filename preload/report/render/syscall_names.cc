#include "preload/report/render/syscall_names.h"

#include <sys/syscall.h>

#include <utility>

namespace threadleak {
namespace {

#define THREADLEAK_SYSCALL(name) \
  { SYS_##name, #name }
constexpr std::pair<int64_t, const char*> kNames[] = {
    THREADLEAK_SYSCALL(read),
    THREADLEAK_SYSCALL(write),
    THREADLEAK_SYSCALL(readv),
    THREADLEAK_SYSCALL(writev),
    THREADLEAK_SYSCALL(pread64),
    THREADLEAK_SYSCALL(pwrite64),
    THREADLEAK_SYSCALL(open),
    THREADLEAK_SYSCALL(openat),
    THREADLEAK_SYSCALL(poll),
    THREADLEAK_SYSCALL(ppoll),
    THREADLEAK_SYSCALL(select),
    THREADLEAK_SYSCALL(pselect6),
    THREADLEAK_SYSCALL(epoll_wait),
    THREADLEAK_SYSCALL(epoll_pwait),
    THREADLEAK_SYSCALL(epoll_pwait2),
    THREADLEAK_SYSCALL(accept),
    THREADLEAK_SYSCALL(accept4),
    THREADLEAK_SYSCALL(connect),
    THREADLEAK_SYSCALL(recvfrom),
    THREADLEAK_SYSCALL(recvmsg),
    THREADLEAK_SYSCALL(recvmmsg),
    THREADLEAK_SYSCALL(sendto),
    THREADLEAK_SYSCALL(sendmsg),
    THREADLEAK_SYSCALL(wait4),
    THREADLEAK_SYSCALL(waitid),
    THREADLEAK_SYSCALL(pause),
    THREADLEAK_SYSCALL(rt_sigsuspend),
    THREADLEAK_SYSCALL(rt_sigtimedwait),
    THREADLEAK_SYSCALL(msgrcv),
    THREADLEAK_SYSCALL(msgsnd),
    THREADLEAK_SYSCALL(semop),
    THREADLEAK_SYSCALL(semtimedop),
    THREADLEAK_SYSCALL(flock),
    THREADLEAK_SYSCALL(fcntl),
    THREADLEAK_SYSCALL(ioctl),
    THREADLEAK_SYSCALL(io_getevents),
    THREADLEAK_SYSCALL(io_uring_enter),
    THREADLEAK_SYSCALL(futex),
    THREADLEAK_SYSCALL(nanosleep),
    THREADLEAK_SYSCALL(clock_nanosleep),
    THREADLEAK_SYSCALL(mq_timedreceive),
    THREADLEAK_SYSCALL(mq_timedsend),
    THREADLEAK_SYSCALL(splice),
    THREADLEAK_SYSCALL(sendfile),
};
#undef THREADLEAK_SYSCALL

}  // namespace

std::string SyscallName(int64_t number) {
  for (const auto& [value, name] : kNames) {
    if (value == number) return name;
  }
  return "syscall " + std::to_string(number);
}

}  // namespace threadleak
