#include "preload/capture/process_memory.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "tests/common/seccomp_filter.h"

namespace threadleak {
namespace {

// Two pages, the second unmapped: a read that runs into it stops there.
class ProcessMemory : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* memory =
        mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory, MAP_FAILED);
    bytes_ = static_cast<char*>(memory);
    for (size_t i = 0; i < page_; ++i) bytes_[i] = static_cast<char>(i * 7);
    ASSERT_EQ(munmap(bytes_ + page_, page_), 0);
    g_read_through_proc_mem.store(GetParam());
  }
  void TearDown() override {
    munmap(bytes_, page_);
    g_read_through_proc_mem.store(false);
  }
  uintptr_t At(size_t offset) const { return reinterpret_cast<uintptr_t>(bytes_ + offset); }

  size_t page_ = 0;
  char* bytes_ = nullptr;
};

TEST_P(ProcessMemory, ReadsWhatIsMapped) {
  char out[64];
  EXPECT_EQ(ReadProcessBytes(At(100), out, sizeof out), static_cast<ssize_t>(sizeof out));
  EXPECT_EQ(memcmp(out, bytes_ + 100, sizeof out), 0);
  uint64_t word = 0;
  EXPECT_TRUE(ReadProcessMemory(At(8), &word));
  EXPECT_EQ(memcmp(&word, bytes_ + 8, sizeof word), 0);
  // Another process's way in: its pid named (the report writer reads the program by pid).
  EXPECT_EQ(ReadBytesOf(getpid(), At(100), out, sizeof out), static_cast<ssize_t>(sizeof out));
  EXPECT_EQ(memcmp(out, bytes_ + 100, sizeof out), 0);
}

TEST_P(ProcessMemory, UnmappedMemoryIsEfaultNeverAFault) {
  char out[16];
  errno = 0;
  EXPECT_EQ(ReadProcessBytes(At(page_ + 8), out, sizeof out), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(ReadProcessBytes(0, out, sizeof out), -1);
  EXPECT_EQ(errno, EFAULT);
}

TEST_P(ProcessMemory, AReadIntoAnUnmappedPageGivesWhatCameBefore) {
  char out[64];
  EXPECT_EQ(ReadProcessBytes(At(page_ - 24), out, sizeof out), 24);
  EXPECT_EQ(memcmp(out, bytes_ + page_ - 24, 24), 0);
}

INSTANTIATE_TEST_SUITE_P(Readers, ProcessMemory, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "ProcMem" : "ProcessVmReadv";
                         });

TEST(ProcessMemoryChoice, AnyFilterReadsThroughProcMemNoneOrUnknownDoesNot) {
  g_read_through_proc_mem.store(false);
  ChooseMemoryReader(0);
  EXPECT_FALSE(ReadingThroughProcMem());
  ChooseMemoryReader(-1);  // no /proc to tell: no /proc/PID/mem either
  EXPECT_FALSE(ReadingThroughProcMem());
  ChooseMemoryReader(2);
  EXPECT_TRUE(ReadingThroughProcMem());
  g_read_through_proc_mem.store(false);
}

// A filter installed after the choice was made (or one that only refuses): the first refused
// read switches to /proc/PID/mem, and it and every later one succeed.
TEST(ProcessMemoryChoice, AReadThatProcessVmReadvRefusesIsMadeThroughProcMem) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (InstallSeccompFilterOn(SYS_process_vm_readv,
                               SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)) != 0) {
      _exit(3);
    }
    const char text[] = "read through the file";
    char out[sizeof text] = {};
    if (ReadingThroughProcMem()) _exit(4);
    if (ReadProcessBytes(reinterpret_cast<uintptr_t>(text), out, sizeof out) !=
        static_cast<ssize_t>(sizeof out)) {
      _exit(5);
    }
    if (memcmp(out, text, sizeof text) != 0 || !ReadingThroughProcMem()) _exit(6);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "seccomp unavailable";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ProcessMemoryChoice, TheFileIsNamedForThisProcessOrAnother) {
  EXPECT_STREQ(process_memory_detail::ProcMemPath(0).c_str(), "/proc/thread-self/mem");
  EXPECT_STREQ(process_memory_detail::ProcMemPath(4194304).c_str(), "/proc/4194304/mem");
  EXPECT_STREQ(process_memory_detail::ProcMemPath(7).c_str(), "/proc/7/mem");
}

}  // namespace
}  // namespace threadleak
