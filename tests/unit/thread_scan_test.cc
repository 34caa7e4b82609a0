#include "preload/capture/thread_scan.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "tests/common/seccomp_filter.h"

namespace threadleak {
namespace {

struct PipeReader {
  int fds[2];
  std::atomic<int32_t> tid{0};
  pthread_t thread;

  PipeReader() {
    EXPECT_EQ(pipe(fds), 0);
    pthread_create(&thread, nullptr, Run, this);
    while (tid.load() == 0) sched_yield();
  }
  ~PipeReader() {
    char byte = 'x';
    EXPECT_EQ(write(fds[1], &byte, 1), 1);
    pthread_join(thread, nullptr);
    close(fds[0]);
    close(fds[1]);
  }
  static void* Run(void* self) {
    auto* reader = static_cast<PipeReader*>(self);
    reader->tid.store(static_cast<int32_t>(gettid()));
    char byte;
    (void)read(reader->fds[0], &byte, 1);
    return nullptr;
  }
};

TEST(ThreadScan, ListsThisProcessTasksIncludingNewThreads) {
  PipeReader reader;
  int32_t tids[256];
  size_t count = ListTasks(tids, 256);
  ASSERT_GE(count, 2u);
  ASSERT_LE(count, 256u);
  EXPECT_NE(std::find(tids, tids + count, static_cast<int32_t>(getpid())), tids + count);
  EXPECT_NE(std::find(tids, tids + count, reader.tid.load()), tids + count);
}

TEST(ThreadScan, CountsBeyondTheBufferWithoutOverrunningIt) {
  PipeReader reader;
  int32_t tids[1] = {-7};
  EXPECT_GE(ListTasks(tids, 0), 2u);
  EXPECT_EQ(tids[0], -7);
}

TEST(ThreadScan, SeesAThreadBlockedInRead) {
  PipeReader reader;
  SyscallState state;
  for (int i = 0; i < 1000; ++i) {  // until the reader has entered read()
    state = ReadSyscallState(reader.tid.load());
    if (state.number == SYS_read) break;
    usleep(1000);
  }
  EXPECT_TRUE(state.known);
  EXPECT_FALSE(state.running);
  EXPECT_EQ(state.number, SYS_read);
  EXPECT_EQ(state.first_argument, static_cast<uintptr_t>(reader.fds[0]));
  EXPECT_NE(state.pc, 0u);
}

TEST(ThreadScan, ASpinningThreadIsRunning) {
  struct Spinner {
    std::atomic<int32_t> tid{0};
    std::atomic<bool> stop{false};
  } spinner;
  pthread_t thread;
  pthread_create(
      &thread, nullptr,
      [](void* arg) -> void* {
        auto* s = static_cast<Spinner*>(arg);
        s->tid.store(static_cast<int32_t>(gettid()));
        while (!s->stop.load()) {
        }
        return nullptr;
      },
      &spinner);
  while (spinner.tid.load() == 0) sched_yield();
  SyscallState state = ReadSyscallState(spinner.tid.load());
  spinner.stop.store(true);
  pthread_join(thread, nullptr);
  EXPECT_TRUE(state.known);
  EXPECT_TRUE(state.running);
}

TEST(ThreadScan, AMissingTaskIsUnknown) {
  SyscallState state = ReadSyscallState(0x7ffffff0);
  EXPECT_FALSE(state.known);
}

TEST(ThreadScan, ReadsTaskNames) {
  PipeReader reader;
  pthread_setname_np(reader.thread, "scan-reader");
  char name[16] = {};
  ReadTaskName(reader.tid.load(), name, sizeof name);
  EXPECT_STREQ(name, "scan-reader");
}

// Status fields after the Groups: line are found however long it is (as root: 600 groups push
// the signal masks and Seccomp: past 4 KiB), and the seccomp mode follows a filter. In a child,
// since neither the groups nor the filter can be undone.
TEST(ThreadScan, ReadsStatusFieldsPastALongGroupsLine) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    static gid_t groups[600];
    for (int i = 0; i < 600; ++i) groups[i] = static_cast<gid_t>(100000 + i);
    if (geteuid() == 0 && setgroups(600, groups) != 0) _exit(10);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
    const int32_t tid = static_cast<int32_t>(syscall(SYS_gettid));
    if (((ReadSignalMask(tid, "SigBlk") >> (SIGUSR1 - 1)) & 1) == 0) _exit(11);
    if (SeccompMode() != 0) _exit(12);
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    if (InstallSeccompFilter(allow, 1) != 0) _exit(0);  // no seccomp here: nothing more to see
    _exit(SeccompMode() == 2 ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setgroups, 11 SigBlk, 12 mode before, 13 mode after";
}

}  // namespace
}  // namespace threadleak
