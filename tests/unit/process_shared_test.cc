// Which objects are shared with other processes (preload/report/reachability/process_shared.h): the
// glibc layout facts it relies on, checked on objects made here with and without the
// PTHREAD_PROCESS_SHARED attribute and read back through process_vm_readv, as the report writer
// reads them; and the mapping rule, on MAP_SHARED and private memory.
#include "preload/report/reachability/process_shared.h"

#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <threads.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace threadleak {
namespace {

std::optional<bool> Attribute(uint32_t state, const void* object) {
  return HasProcessSharedAttribute(TargetMemory(getpid()), state,
                                   reinterpret_cast<uintptr_t>(object));
}

class ProcessSharedAttribute : public ::testing::TestWithParam<bool> {
 protected:
  int pshared() const { return GetParam() ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE; }
};

TEST_P(ProcessSharedAttribute, Mutex) {
  for (int type : {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK}) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, pshared());
    pthread_mutexattr_settype(&attr, type);
    pthread_mutex_t mutex;
    pthread_mutex_init(&mutex, &attr);
    EXPECT_EQ(Attribute(TL_STATE_MUTEX, &mutex), GetParam()) << "type " << type;
    pthread_mutex_destroy(&mutex);
  }
}

TEST_P(ProcessSharedAttribute, Cond) {
  for (clockid_t clock : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setpshared(&attr, pshared());
    pthread_condattr_setclock(&attr, clock);
    pthread_cond_t cond;
    pthread_cond_init(&cond, &attr);
    EXPECT_EQ(Attribute(TL_STATE_COND, &cond), GetParam()) << "clock " << clock;
    pthread_cond_destroy(&cond);
  }
}

TEST_P(ProcessSharedAttribute, Rwlock) {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setpshared(&attr, pshared());
  pthread_rwlock_t rwlock;
  pthread_rwlock_init(&rwlock, &attr);
  EXPECT_EQ(Attribute(TL_STATE_RWLOCK, &rwlock), GetParam());
  pthread_rwlock_destroy(&rwlock);
}

TEST_P(ProcessSharedAttribute, Semaphore) {
  sem_t sem;
  sem_init(&sem, GetParam() ? 1 : 0, 3);
  EXPECT_EQ(Attribute(TL_STATE_SEM, &sem), GetParam());
  sem_destroy(&sem);
}

TEST_P(ProcessSharedAttribute, Barrier) {
  pthread_barrierattr_t attr;
  pthread_barrierattr_init(&attr);
  pthread_barrierattr_setpshared(&attr, pshared());
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, &attr, 2);
  EXPECT_EQ(Attribute(TL_STATE_BARRIER, &barrier), GetParam());
  pthread_barrier_destroy(&barrier);
}

INSTANTIATE_TEST_SUITE_P(SharedAndPrivate, ProcessSharedAttribute, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Shared" : "Private"; });

TEST(ProcessSharedAttribute, StaticInitialisersAndC11ObjectsArePrivate) {
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  static pthread_rwlock_t rwlock = PTHREAD_RWLOCK_INITIALIZER;
  EXPECT_EQ(Attribute(TL_STATE_MUTEX, &mutex), false);
  EXPECT_EQ(Attribute(TL_STATE_COND, &cond), false);
  EXPECT_EQ(Attribute(TL_STATE_RWLOCK, &rwlock), false);
  mtx_t c11_mutex;
  cnd_t c11_cond;
  ASSERT_EQ(mtx_init(&c11_mutex, mtx_plain | mtx_recursive), thrd_success);
  ASSERT_EQ(cnd_init(&c11_cond), thrd_success);
  EXPECT_EQ(Attribute(TL_STATE_MUTEX, &c11_mutex), false);
  EXPECT_EQ(Attribute(TL_STATE_COND, &c11_cond), false);
  mtx_destroy(&c11_mutex);
  cnd_destroy(&c11_cond);
}

TEST(ProcessSharedAttribute, ARobustMutexIsLeftToTheMapping) {
  // glibc sets the pshared bit of every robust mutex: the bit says nothing there.
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t mutex;
  pthread_mutex_init(&mutex, &attr);
  EXPECT_EQ(Attribute(TL_STATE_MUTEX, &mutex), false);
  pthread_mutex_destroy(&mutex);
}

TEST(ProcessSharedAttribute, NoAttributeForFutexWordsJoinsOrUnreadableMemory) {
  int word = 0;
  EXPECT_EQ(Attribute(TL_STATE_FUTEX, &word), std::nullopt);
  EXPECT_EQ(Attribute(TL_STATE_JOIN, &word), std::nullopt);
  EXPECT_EQ(Attribute(TL_STATE_COND, nullptr), std::nullopt);
}

// A thread of this process sleeping in sem_wait on `sem`; its tid once the kernel shows it in the
// futex wait.
class SemWaiter {
 public:
  explicit SemWaiter(sem_t* sem)
      : sem_(sem), thread_([this] {
          tid_ = static_cast<int32_t>(gettid());
          while (sem_wait(sem_) != 0) {
          }
        }) {
    while (tid_ == 0) std::this_thread::yield();
    const std::string path = "/proc/self/task/" + std::to_string(tid_) + "/syscall";
    for (long number = -1; number != SYS_futex;) {
      std::ifstream file(path);
      if (!(file >> number)) number = -1;
      if (number != SYS_futex) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  ~SemWaiter() {
    sem_post(sem_);
    thread_.join();
  }
  int32_t tid() const { return tid_; }

 private:
  sem_t* sem_;
  std::atomic<int32_t> tid_{0};
  std::thread thread_;
};

TEST(MarkProcessSharedObjects, FlagsByMappingAndByAttributeInAWaitTheKernelShows) {
  void* shared = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  void* private_memory =
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  ASSERT_NE(private_memory, MAP_FAILED);
  auto* in_shared = static_cast<sem_t*>(shared);
  auto* in_private = static_cast<sem_t*>(private_memory);
  sem_init(in_shared, 0, 0);       // private attribute, shared mapping
  sem_init(in_private, 1, 0);      // shared attribute, private mapping
  sem_init(in_private + 1, 0, 0);  // neither
  {
    SemWaiter on_shared_attribute(in_private);
    SemWaiter on_private(in_private + 1);
    tl_thread threads[5] = {};
    const sem_t* objects[] = {in_shared, in_private, in_private + 1, in_private, in_shared};
    const int32_t tids[] = {0, on_shared_attribute.tid(), on_private.tid(), 0, 0};
    for (int i = 0; i < 5; ++i) {
      threads[i].tid = tids[i];
      threads[i].state = i == 4 ? TL_STATE_RUNNING : TL_STATE_SEM;
      threads[i].object = reinterpret_cast<uintptr_t>(objects[i]);
    }
    MarkProcessSharedObjects(threads, 5, getpid());
    EXPECT_EQ(threads[0].object_flags, uint32_t{TL_OBJECT_IN_SHARED_MEMORY});
    EXPECT_EQ(threads[1].object_flags, uint32_t{TL_OBJECT_PROCESS_SHARED});
    EXPECT_EQ(threads[2].object_flags, 0u);
    // The attribute without a shared futex wait the kernel shows (tid 0: no such thread).
    EXPECT_EQ(threads[3].object_flags, 0u);
    EXPECT_EQ(threads[4].object_flags, 0u);  // not waiting: not looked at
    EXPECT_TRUE(WaitsOnSharedObject(threads[0]));
    EXPECT_TRUE(WaitsOnSharedObject(threads[1]));
    EXPECT_FALSE(WaitsOnSharedObject(threads[2]));

    // Bytes that read as the attribute (an object on a frame that has returned holds anything)
    // while the waiter sleeps in a private futex wait: not shared.
    int32_t* private_field = reinterpret_cast<int32_t*>(in_private + 1) + 2;
    const int32_t saved = *private_field;
    *private_field = 0x80;
    tl_thread garbage = threads[2];
    garbage.object_flags = 0;
    MarkProcessSharedObjects(&garbage, 1, getpid());
    *private_field = saved;  // before the post: sem_post wakes by this field
    EXPECT_EQ(garbage.object_flags, 0u);
  }
  munmap(shared, 4096);
  munmap(private_memory, 4096);
}

}  // namespace
}  // namespace threadleak
