// One thread ("waiter") makes one kind of blocking call while the harness asks for dumps; what
// each call returned is printed, so that a run under threadleak can be compared line by line
// with a run without it (issue 12, items 1 and 2).
//
// Usage: tp_waits MODE TRIGGER_FIFO (protocol: scenario.h)
//
// Timed calls repeat with a short timeout (kSliceMs) until the harness's event wakes them, so
// both the timed-out path and the woken path run while dumps are made, whatever the dumps cost.
// The waiter records each distinct outcome — "CALL ret=R errno=E CLASS" — in the order first
// seen, and main prints them once it has joined it: how often a call timed out depends on how
// long the dumps took, which outcomes occurred does not. Sleeps repeat until main tells them to
// stop. The masked modes (item 1) wait with a signal mask that lets only SIGUSR1 through, and
// the harness sends SIGUSR1 itself.
#include <linux/aio_abi.h>
#include <linux/futex.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <vector>

#include "tests/transparency/programs/scenario.h"

// <threads.h> is C only (it uses _Noreturn); thrd_sleep is all this program needs of it.
extern "C" int thrd_sleep(const struct timespec* duration, struct timespec* remaining);

namespace {

using scenario::ErrnoName;
using scenario::MonotonicNanos;
using scenario::PrintLine;

constexpr int kSliceMs = 200;  // the timeout of each timed call
// A timed-out call that waited less than this came back early. The slack covers timeouts that
// the kernel counts in jiffies (SO_RCVTIMEO); a call the tool cut short returns far earlier.
constexpr int64_t kFullSliceNs = (kSliceMs - 20) * int64_t{1'000'000};

// The distinct outcomes, first seen first. Only the waiter adds; main reads after the join.
std::vector<std::string> g_outcomes;

void AddOutcome(const std::string& line) {
  for (const std::string& seen : g_outcomes) {
    if (seen == line) return;
  }
  g_outcomes.push_back(line);
}

struct Step {
  std::string ret;     // the return value, or its class ("fd") where the number may vary
  int error;           // errno right after the call (cleared before it)
  std::string detail;  // timed_out / woken / interrupted / ..., and call-specific classes
  bool last;           // woken, or failed in a way that repeating cannot change
};

// Classifies one return of a call that may time out or be woken.
Step Classify(long ret, int error, int64_t start_ns, bool timed_out, bool woken,
              const std::string& extra = "") {
  Step step{std::to_string(ret), error, "", false};
  if (timed_out) {
    step.detail = MonotonicNanos() - start_ns >= kFullSliceNs ? "timed_out" : "timed_out_early";
  } else if (woken) {
    step.detail = "woken";
    step.last = true;
  } else if (ret == -1 && error == EINTR) {
    step.detail = "interrupted";  // repeated: the harness's event is still to come
  } else if (ret == -1 && (error == ENOSYS || error == EINVAL)) {
    step.detail = "unsupported";  // the harness skips the test when the plain run says this
    step.last = true;
  } else {
    step.detail = "unexpected";
    step.last = true;
  }
  if (!extra.empty()) step.detail += " " + extra;
  return step;
}

template <typename Call>
void Repeat(const char* name, Call call) {
  for (;;) {
    Step step = call();
    AddOutcome(std::string(name) + " ret=" + step.ret + " errno=" + ErrnoName(step.error) + " " +
               step.detail);
    if (step.last) return;
  }
}

timespec Slice() {
  return {0, kSliceMs * 1'000'000L};
}

timespec AbsoluteSlice(clockid_t clock) {
  timespec deadline;
  clock_gettime(clock, &deadline);
  deadline.tv_nsec += kSliceMs * 1'000'000L;
  if (deadline.tv_nsec >= 1'000'000'000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000L;
  }
  return deadline;
}

bool SameTime(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// --- what the modes share -----------------------------------------------------------------------

std::atomic<bool> g_stop{false};  // the sleeps' loops end when main sets it
std::atomic<int> g_usr1_handled{0};
int g_pipe[2];  // the poll family waits for its read end; main writes to wake it
sem_t g_sem;
alignas(4) int g_futex_word = 0;
std::atomic<bool> g_futex_returned{false};
int g_socket[2];
int g_listener = -1;
sockaddr_un g_listener_address;
socklen_t g_listener_length = 0;
int g_msq = -1;
int g_semset = -1;
aio_context_t g_aio = 0;
bool g_aio_ready = false;
int g_epoll = -1;

void OnUsr1(int) {
  g_usr1_handled.fetch_add(1);
}

sigset_t OnlyUsr1() {
  sigset_t mask;
  sigfillset(&mask);
  sigdelset(&mask, SIGUSR1);
  return mask;
}

void WakePipe() {
  if (write(g_pipe[1], "x", 1) != 1) scenario::Fail("write pipe");
}

// Receive timeouts on a socket; the call then fails with EAGAIN, and a signal ends it with EINTR
// even under SA_RESTART (signal(7)).
void SetReceiveTimeout(int fd) {
  timeval timeout = {0, kSliceMs * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    scenario::Fail("SO_RCVTIMEO");
  }
}

void SetUpPipe() {
  if (pipe2(g_pipe, O_CLOEXEC) != 0) scenario::Fail("pipe");
}

void SetUpEpoll() {
  SetUpPipe();
  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event = {};
  event.events = EPOLLIN;
  if (g_epoll < 0 || epoll_ctl(g_epoll, EPOLL_CTL_ADD, g_pipe[0], &event) != 0) {
    scenario::Fail("epoll");
  }
}

// SysV objects outlive the process: their ids go to stderr, and the harness removes them even
// when a run had to be killed.
void NoteIpc(const char* kind, int id) {
  fprintf(stderr, "ipc_cleanup %s %d\n", kind, id);
  fflush(stderr);
}

// --- sleeps (until main says stop) ----------------------------------------------------------

const char* Elapsed(int64_t start_ns) {
  return MonotonicNanos() - start_ns >= kFullSliceNs ? "slept_full" : "slept_short";
}

template <typename Call>
void RepeatUntilStopped(const char* name, Call call) {
  while (!g_stop.load()) {
    Step step = call();
    AddOutcome(std::string(name) + " ret=" + step.ret + " errno=" + ErrnoName(step.error) + " " +
               step.detail);
    if (step.last) return;
  }
}

// nanosleep and thrd_sleep write the remaining time only when interrupted.
const timespec kSentinel = {12345, 678};

std::string RemainingClass(const timespec& remaining) {
  if (SameTime(remaining, kSentinel)) return "rem=untouched";
  return remaining.tv_sec > 0 || remaining.tv_nsec > 0 ? "rem>0" : "rem=0";
}

void WaitNanosleep() {
  RepeatUntilStopped("nanosleep", [] {
    timespec duration = Slice(), remaining = kSentinel;
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = nanosleep(&duration, &remaining);
    int error = errno;
    return Step{std::to_string(ret), error,
                std::string(Elapsed(start)) + " " + RemainingClass(remaining),
                ret != 0 && error != EINTR};
  });
}

void WaitUsleep() {
  RepeatUntilStopped("usleep", [] {
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = usleep(kSliceMs * 1000);
    int error = errno;
    return Step{std::to_string(ret), error, Elapsed(start), ret != 0 && error != EINTR};
  });
}

void WaitThrdSleep() {
  RepeatUntilStopped("thrd_sleep", [] {
    timespec duration = Slice(), remaining = kSentinel;
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = thrd_sleep(&duration, &remaining);  // 0, -1 when interrupted, < -1 on error
    int error = errno;
    return Step{std::to_string(ret), error,
                std::string(Elapsed(start)) + " " + RemainingClass(remaining), ret < -1};
  });
}

void StopSleeping() {
  g_stop.store(true);
}

// --- semaphores, futexes, signals ---------------------------------------------------------------

void SetUpSemaphore() {
  if (sem_init(&g_sem, 0, 0) != 0) scenario::Fail("sem_init");
}

void WakeSemaphore() {
  sem_post(&g_sem);
}

void WaitSemTimedwait() {
  Repeat("sem_timedwait", [] {
    timespec deadline = AbsoluteSlice(CLOCK_REALTIME);
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = sem_timedwait(&g_sem, &deadline);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == ETIMEDOUT, ret == 0);
  });
}

void WaitSemClockwait() {
  Repeat("sem_clockwait", [] {
    timespec deadline = AbsoluteSlice(CLOCK_MONOTONIC);
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = sem_clockwait(&g_sem, CLOCK_MONOTONIC, &deadline);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == ETIMEDOUT, ret == 0);
  });
}

// The word never changes: FUTEX_WAIT returns 0 only for main's FUTEX_WAKE, which main repeats
// until the waiter has returned (a wake while the waiter is between two waits is lost).
void WaitFutex() {
  Repeat("futex_wait", [] {
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    long ret = syscall(SYS_futex, &g_futex_word, FUTEX_WAIT, 0, &timeout, nullptr, 0);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == ETIMEDOUT, ret == 0);
  });
  g_futex_returned.store(true);
}

void WakeFutex() {
  while (!g_futex_returned.load()) {
    syscall(SYS_futex, &g_futex_word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
    timespec pause = {0, 2'000'000};
    nanosleep(&pause, nullptr);
  }
}

sigset_t Usr1Set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  return set;
}

// SIGUSR1 is blocked in every thread, so the harness's process-directed SIGUSR1 stays pending
// until the waiter accepts it.
void WaitSigtimedwait() {
  Repeat("sigtimedwait", [] {
    sigset_t set = Usr1Set();
    timespec timeout = Slice();
    siginfo_t info = {};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = sigtimedwait(&set, &info, &timeout);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == EAGAIN, ret == SIGUSR1,
                    ret == SIGUSR1 ? "si_code=" + std::to_string(info.si_code) : "");
  });
}

void WaitSigwaitinfo() {
  Repeat("sigwaitinfo", [] {
    sigset_t set = Usr1Set();
    siginfo_t info = {};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = sigwaitinfo(&set, &info);
    int error = errno;
    return Classify(ret, error, start, false, ret == SIGUSR1,
                    ret == SIGUSR1 ? "si_code=" + std::to_string(info.si_code) : "");
  });
}

// --- sockets and SysV IPC -----------------------------------------------------------------------

void SetUpSocketPair() {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_socket) != 0) {
    scenario::Fail("socketpair");
  }
  SetReceiveTimeout(g_socket[0]);
}

void WaitRecv() {
  Repeat("recv", [] {
    char byte = 0;
    int64_t start = MonotonicNanos();
    errno = 0;
    ssize_t ret = recv(g_socket[0], &byte, 1, 0);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == EAGAIN, ret == 1,
                    ret == 1 ? std::string("byte=") + byte : "");
  });
}

void WakeRecv() {
  if (send(g_socket[1], "y", 1, MSG_NOSIGNAL) != 1) scenario::Fail("send");
}

// A listener in the abstract namespace (nothing to remove afterwards), named after the pid so
// that concurrent runs do not meet.
void SetUpListener() {
  g_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_listener_address = {};
  g_listener_address.sun_family = AF_UNIX;
  int length = snprintf(g_listener_address.sun_path + 1, sizeof g_listener_address.sun_path - 1,
                        "threadleak-transparency-%d", getpid());
  g_listener_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
  if (g_listener < 0 ||
      bind(g_listener, reinterpret_cast<sockaddr*>(&g_listener_address), g_listener_length) != 0 ||
      listen(g_listener, 4) != 0) {
    scenario::Fail("listen");
  }
  SetReceiveTimeout(g_listener);  // accept honours SO_RCVTIMEO
}

void WaitAccept() {
  Repeat("accept", [] {
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = accept(g_listener, nullptr, nullptr);
    int error = errno;
    Step step = Classify(ret, error, start, ret == -1 && error == EAGAIN, ret >= 0);
    if (ret >= 0) step.ret = "fd";  // descriptor numbers differ: the tool opens its log file
    return step;
  });
}

void WakeAccept() {
  int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0 ||
      connect(client, reinterpret_cast<sockaddr*>(&g_listener_address), g_listener_length) != 0) {
    scenario::Fail("connect");
  }
}

struct Message {
  long type;
  char text[1];
};

void SetUpMessageQueue() {
  g_msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (g_msq < 0) scenario::Fail("msgget");
  NoteIpc("msq", g_msq);
}

// msgrcv has no timeout: one wait, woken by main's message.
void WaitMsgrcv() {
  Repeat("msgrcv", [] {
    Message message = {};
    int64_t start = MonotonicNanos();
    errno = 0;
    ssize_t ret = msgrcv(g_msq, &message, sizeof message.text, 0, 0);
    int error = errno;
    return Classify(ret, error, start, false, ret == 1,
                    ret == 1 ? std::string("text=") + message.text[0] : "");
  });
}

void WakeMsgrcv() {
  Message message = {1, {'m'}};
  if (msgsnd(g_msq, &message, sizeof message.text, 0) != 0) scenario::Fail("msgsnd");
}

void SetUpSemaphoreSet() {
  g_semset = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  if (g_semset < 0) scenario::Fail("semget");
  NoteIpc("sem", g_semset);
}

void WaitSemop() {
  Repeat("semop", [] {
    sembuf take = {0, -1, 0};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = semop(g_semset, &take, 1);
    int error = errno;
    return Classify(ret, error, start, false, ret == 0);
  });
}

void WaitSemtimedop() {
  Repeat("semtimedop", [] {
    sembuf take = {0, -1, 0};
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = semtimedop(g_semset, &take, 1, &timeout);
    int error = errno;
    return Classify(ret, error, start, ret == -1 && error == EAGAIN, ret == 0);
  });
}

void WakeSemaphoreSet() {
  sembuf give = {0, 1, 0};
  if (semop(g_semset, &give, 1) != 0) scenario::Fail("semop give");
}

void RemoveIpc() {
  if (g_msq >= 0) msgctl(g_msq, IPC_RMID, nullptr);
  if (g_semset >= 0) semctl(g_semset, 0, IPC_RMID);
}

// --- Linux AIO: a poll request on the pipe, completed by main's write ---------------------------

iocb g_poll_request;

void SetUpAio() {
  SetUpPipe();
  if (syscall(SYS_io_setup, 4, &g_aio) != 0) return;
  g_poll_request = {};
  g_poll_request.aio_lio_opcode = IOCB_CMD_POLL;
  g_poll_request.aio_fildes = static_cast<uint32_t>(g_pipe[0]);
  g_poll_request.aio_buf = POLLIN;
  iocb* requests[] = {&g_poll_request};
  g_aio_ready = syscall(SYS_io_submit, g_aio, 1, requests) == 1;
}

void WaitIoGetevents() {
  if (!g_aio_ready) {
    AddOutcome("io_getevents unsupported (io_setup or IOCB_CMD_POLL failed)");
    return;
  }
  Repeat("io_getevents", [] {
    io_event event = {};
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    long ret = syscall(SYS_io_getevents, g_aio, 1, 1, &event, &timeout);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1,
                    ret == 1 ? "res=" + std::to_string(event.res) : "");
  });
}

void TearDownAio() {
  if (g_aio != 0) syscall(SYS_io_destroy, g_aio);
}

// --- the poll family ----------------------------------------------------------------------------

std::string Revents(const pollfd& fd) {
  return "revents=" + std::to_string(fd.revents);
}

void WaitPoll() {
  Repeat("poll", [] {
    pollfd fd = {g_pipe[0], POLLIN, 0};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = poll(&fd, 1, kSliceMs);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1, Revents(fd));
  });
}

// glibc's ppoll and pselect pass the kernel a copy of the timeout: the caller's stays as it was.
std::string TimeoutClass(const timespec& timeout) {
  return SameTime(timeout, Slice()) ? "timeout=untouched" : "timeout=changed";
}

void WaitPpoll() {
  Repeat("ppoll", [] {
    pollfd fd = {g_pipe[0], POLLIN, 0};
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = ppoll(&fd, 1, &timeout, nullptr);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1,
                    Revents(fd) + " " + TimeoutClass(timeout));
  });
}

// Linux's select counts the timeval down: 0 when it timed out, above 0 when woken early.
void WaitSelect() {
  Repeat("select", [] {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(g_pipe[0], &readable);
    timeval timeout = {0, kSliceMs * 1000};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = select(g_pipe[0] + 1, &readable, nullptr, nullptr, &timeout);
    int error = errno;
    bool left = timeout.tv_sec > 0 || timeout.tv_usec > 0;
    bool full = timeout.tv_sec == 0 && timeout.tv_usec == kSliceMs * 1000;
    return Classify(ret, error, start, ret == 0, ret == 1,
                    std::string(full   ? "left=all"
                                : left ? "left>0"
                                       : "left=0") +
                        (FD_ISSET(g_pipe[0], &readable) ? " readable" : " not_readable"));
  });
}

void WaitPselect() {
  Repeat("pselect", [] {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(g_pipe[0], &readable);
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = pselect(g_pipe[0] + 1, &readable, nullptr, nullptr, &timeout, nullptr);
    int error = errno;
    return Classify(
        ret, error, start, ret == 0, ret == 1,
        TimeoutClass(timeout) + (FD_ISSET(g_pipe[0], &readable) ? " readable" : " not_readable"));
  });
}

std::string EpollEvents(int ret, const epoll_event& event) {
  return ret == 1 ? "events=" + std::to_string(event.events) : "";
}

void WaitEpollWait() {
  Repeat("epoll_wait", [] {
    epoll_event event = {};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = epoll_wait(g_epoll, &event, 1, kSliceMs);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1, EpollEvents(ret, event));
  });
}

void WaitEpollPwait() {
  Repeat("epoll_pwait", [] {
    sigset_t current;
    pthread_sigmask(SIG_SETMASK, nullptr, &current);
    epoll_event event = {};
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = epoll_pwait(g_epoll, &event, 1, kSliceMs, &current);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1, EpollEvents(ret, event));
  });
}

int EpollPwait2(int epoll, epoll_event* events, int max, const timespec* timeout) {
#if __GLIBC_PREREQ(2, 35)
  return epoll_pwait2(epoll, events, max, timeout, nullptr);
#else
  return static_cast<int>(syscall(SYS_epoll_pwait2, epoll, events, max, timeout, nullptr, 8));
#endif
}

void WaitEpollPwait2() {
  Repeat("epoll_pwait2", [] {
    epoll_event event = {};
    timespec timeout = Slice();
    int64_t start = MonotonicNanos();
    errno = 0;
    int ret = EpollPwait2(g_epoll, &event, 1, &timeout);
    int error = errno;
    return Classify(ret, error, start, ret == 0, ret == 1, EpollEvents(ret, event));
  });
}

// --- item 1: masks that let only SIGUSR1 through, woken by the harness's SIGUSR1 -------------

Step Masked(int ret, int error) {
  bool handled = g_usr1_handled.load() > 0;
  return Step{std::to_string(ret), error, handled ? "usr1_handled" : "usr1_not_handled", handled};
}

void WaitSigsuspendMasked() {
  Repeat("sigsuspend", [] {
    sigset_t mask = OnlyUsr1();
    errno = 0;
    int ret = sigsuspend(&mask);
    return Masked(ret, errno);
  });
}

void WaitPpollMasked() {
  Repeat("ppoll", [] {
    sigset_t mask = OnlyUsr1();
    pollfd fd = {g_pipe[0], POLLIN, 0};
    errno = 0;
    int ret = ppoll(&fd, 1, nullptr, &mask);
    return Masked(ret, errno);
  });
}

void WaitPselectMasked() {
  Repeat("pselect", [] {
    sigset_t mask = OnlyUsr1();
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(g_pipe[0], &readable);
    errno = 0;
    int ret = pselect(g_pipe[0] + 1, &readable, nullptr, nullptr, nullptr, &mask);
    return Masked(ret, errno);
  });
}

// --- the modes ----------------------------------------------------------------------------------

struct Mode {
  const char* name;
  void (*set_up)();  // in main, before the waiter starts
  void (*wait)();    // in the waiter
  void (*wake)();    // in main after the trigger; null when the harness's signal wakes it
};

const Mode kModes[] = {
    {"sem_timedwait", SetUpSemaphore, WaitSemTimedwait, WakeSemaphore},
    {"sem_clockwait", SetUpSemaphore, WaitSemClockwait, WakeSemaphore},
    {"futex_wait", nullptr, WaitFutex, WakeFutex},
    {"sigtimedwait", nullptr, WaitSigtimedwait, nullptr},
    {"sigwaitinfo", nullptr, WaitSigwaitinfo, nullptr},
    {"thrd_sleep", nullptr, WaitThrdSleep, StopSleeping},
    {"nanosleep", nullptr, WaitNanosleep, StopSleeping},
    {"usleep", nullptr, WaitUsleep, StopSleeping},
    {"epoll_pwait2", SetUpEpoll, WaitEpollPwait2, WakePipe},
    {"recv", SetUpSocketPair, WaitRecv, WakeRecv},
    {"accept", SetUpListener, WaitAccept, WakeAccept},
    {"msgrcv", SetUpMessageQueue, WaitMsgrcv, WakeMsgrcv},
    {"semop", SetUpSemaphoreSet, WaitSemop, WakeSemaphoreSet},
    {"semtimedop", SetUpSemaphoreSet, WaitSemtimedop, WakeSemaphoreSet},
    {"io_getevents", SetUpAio, WaitIoGetevents, WakePipe},
    {"poll", SetUpPipe, WaitPoll, WakePipe},
    {"ppoll", SetUpPipe, WaitPpoll, WakePipe},
    {"select", SetUpPipe, WaitSelect, WakePipe},
    {"pselect", SetUpPipe, WaitPselect, WakePipe},
    {"epoll_wait", SetUpEpoll, WaitEpollWait, WakePipe},
    {"epoll_pwait", SetUpEpoll, WaitEpollPwait, WakePipe},
    {"sigsuspend_masked", nullptr, WaitSigsuspendMasked, nullptr},
    {"ppoll_masked", SetUpPipe, WaitPpollMasked, nullptr},
    {"pselect_masked", SetUpPipe, WaitPselectMasked, nullptr},
};

const Mode* g_mode = nullptr;
std::atomic<bool> g_waiter_started{false};

// Named and never inlined: each dump must show this frame in the waiter's stack.
__attribute__((noinline)) void* WaiterMain(void*) {
  pthread_setname_np(pthread_self(), "waiter");
  g_waiter_started.store(true);
  g_mode->wait();
  asm volatile("" ::: "memory");  // keeps this frame: no tail call into the wait
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODE TRIGGER_FIFO\n", argv[0]);
    return 2;
  }
  for (const Mode& mode : kModes) {
    if (strcmp(mode.name, argv[1]) == 0) g_mode = &mode;
  }
  if (g_mode == nullptr) {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  int trigger = g_mode->wake != nullptr ? scenario::OpenTrigger(argv[2]) : -1;

  // SIGUSR1 wakes the signal modes: blocked in every thread (the waiter inherits the mask), so a
  // process-directed SIGUSR1 waits for the waiter's sigwait or its mask that lets it through.
  struct sigaction action = {};
  action.sa_handler = OnUsr1;
  sigaction(SIGUSR1, &action, nullptr);
  sigset_t usr1 = Usr1Set();
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);

  if (g_mode->set_up != nullptr) g_mode->set_up();
  pthread_t waiter;
  if (pthread_create(&waiter, nullptr, WaiterMain, nullptr) != 0) scenario::Fail("pthread_create");
  while (!g_waiter_started.load()) usleep(1000);
  PrintLine("ready");

  if (g_mode->wake != nullptr) {
    scenario::AwaitTrigger(trigger);
    g_mode->wake();
  }
  pthread_join(waiter, nullptr);
  for (const std::string& line : g_outcomes) PrintLine(line);
  PrintLine("usr1_handled=" + std::to_string(g_usr1_handled.load()));
  TearDownAio();
  RemoveIpc();
  PrintLine("done");
  return 0;
}
