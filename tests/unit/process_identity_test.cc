#include "preload/core/process_identity.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace threadleak {
namespace {

// Exit status 0 when the child's CurrentPid() is its own pid, 1 when it is not.
int ChildChecks() {
  return CurrentPid() == static_cast<pid_t>(syscall(SYS_getpid)) ? 0 : 1;
}

int StatusOf(pid_t child) {
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST(ProcessIdentity, CurrentPidIsGetpid) {
  EXPECT_EQ(CurrentPid(), getpid());
  EXPECT_EQ(CurrentPid(), getpid());  // the cached answer
}

TEST(ProcessIdentity, AForkChildHasItsOwnPid) {
  ASSERT_EQ(CurrentPid(), getpid());  // cached in the parent first
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(ChildChecks());
  EXPECT_EQ(StatusOf(child), 0);
  EXPECT_EQ(CurrentPid(), getpid());
}

// A raw clone runs none of glibc's or threadleak's fork handlers: only the kernel can tell the
// child that the cached pid is not its own.
TEST(ProcessIdentity, ARawCloneChildHasItsOwnPid) {
  ASSERT_EQ(CurrentPid(), getpid());
  long child = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  ASSERT_GE(child, 0);
  if (child == 0) syscall(SYS_exit_group, ChildChecks());
  EXPECT_EQ(StatusOf(static_cast<pid_t>(child)), 0);
}

TEST(ProcessIdentity, OwnTidFromDescriptorIsGettidInEveryThread) {
  EXPECT_EQ(OwnTidFromDescriptor(), gettid());
  for (int i = 0; i < 4; ++i) {
    int32_t seen = 0;
    pid_t real = 0;
    std::thread thread([&] {
      seen = OwnTidFromDescriptor();
      real = gettid();
    });
    thread.join();
    EXPECT_EQ(seen, real);
  }
}

}  // namespace
}  // namespace threadleak
