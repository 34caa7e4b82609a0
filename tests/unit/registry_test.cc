#include "preload/core/registry.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <vector>

#include "tests/unit/registry_probe.h"

namespace threadleak {
namespace {

pthread_t RegistryHandle(uintptr_t n) {
  return static_cast<pthread_t>(0x7f0000001000 + n * 0x1000);
}

TEST(Registry, AllocatedRecordIsLiveAndFindableOncePublished) {
  size_t before = LiveRecordCount();
  ThreadRecord* record = AllocateRecord();
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(LiveRecordCount(), before + 1);
  EXPECT_TRUE(IsLive(record));
  EXPECT_EQ(FindRecord(RegistryHandle(1)), nullptr);
  PublishHandle(record, RegistryHandle(1));
  PublishHandle(record, RegistryHandle(1));  // idempotent: creator and child may both publish
  EXPECT_EQ(FindRecord(RegistryHandle(1)), record);
  ReleaseRecord(record);
  EXPECT_EQ(FindRecord(RegistryHandle(1)), nullptr);
  EXPECT_EQ(LiveRecordCount(), before);
}

// A record as the pthread_create hook leaves it once the creator has returned.
ThreadRecord* CreatedRecord() {
  ThreadRecord* record = AllocateRecord();
  MarkLifecycle(record, kCreatorReturned);
  return record;
}

TEST(Registry, FinishedAloneKeepsTheRecordForAJoinOrReport) {
  ThreadRecord* record = CreatedRecord();
  PublishHandle(record, RegistryHandle(2));
  EXPECT_FALSE(MarkLifecycle(record, kFinished));
  EXPECT_TRUE(IsLive(record));
  EXPECT_TRUE(MarkLifecycle(record, kJoined));
  EXPECT_FALSE(IsLive(record));
  EXPECT_EQ(FindRecord(RegistryHandle(2)), nullptr);
}

TEST(Registry, DetachedThreadIsReleasedWhenItFinishesWhicheverComesFirst) {
  ThreadRecord* detached_first = CreatedRecord();
  EXPECT_FALSE(MarkLifecycle(detached_first, kDetached));
  EXPECT_TRUE(MarkLifecycle(detached_first, kFinished));
  EXPECT_FALSE(IsLive(detached_first));

  ThreadRecord* finished_first = CreatedRecord();
  EXPECT_FALSE(MarkLifecycle(finished_first, kFinished));
  EXPECT_TRUE(MarkLifecycle(finished_first, kDetached));
  EXPECT_FALSE(IsLive(finished_first));
}

TEST(Registry, RecordOutlivesAThreadThatEndsBeforeItsCreatorReturns) {
  ThreadRecord* record = AllocateRecord();
  EXPECT_FALSE(MarkLifecycle(record, kDetached));
  EXPECT_FALSE(MarkLifecycle(record, kFinished));
  EXPECT_TRUE(IsLive(record));  // the creator still publishes its handle
  EXPECT_TRUE(MarkLifecycle(record, kCreatorReturned));
  EXPECT_FALSE(IsLive(record));
}

TEST(Registry, ReleasedTidIsRememberedAsRecentlyExited) {
  // A tid no earlier run of this test released (--gtest_repeat): the memory of exits outlives it.
  static int32_t next_tid = 987654;
  const int32_t tid = next_tid++;
  ThreadRecord* record = AllocateRecord();
  record->tid.store(tid);
  EXPECT_FALSE(RecentlyExited(tid));
  ReleaseRecord(record);
  EXPECT_TRUE(RecentlyExited(tid));
}

TEST(Registry, MemoryDoesNotGrowWithThreadsEverCreated) {
  // Warm up to the peak we use, then churn: nothing new may be mapped.
  std::vector<ThreadRecord*> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(AllocateRecord());
  for (ThreadRecord* r : batch) ReleaseRecord(r);
  size_t allocated = AllocatedRecordCount();
  for (int round = 0; round < 1000; ++round) {
    batch.clear();
    for (int i = 0; i < 100; ++i) {
      ThreadRecord* r = CreatedRecord();
      ASSERT_NE(r, nullptr);
      PublishHandle(r, RegistryHandle(1000 + i));
      batch.push_back(r);
    }
    for (ThreadRecord* r : batch) {
      MarkLifecycle(r, kFinished);
      MarkLifecycle(r, kJoined);
    }
  }
  EXPECT_EQ(AllocatedRecordCount(), allocated);
}

TEST(Registry, ReusedRecordStartsClean) {
  ThreadRecord* record = AllocateRecord();
  record->tid.store(42);
  record->creation_depth = 5;
  record->wait.word.store((uint64_t{7} << 32) | TL_STATE_COND);
  ReleaseRecord(record);
  ThreadRecord* again = AllocateRecord();
  EXPECT_EQ(again->tid.load(), 0);
  EXPECT_EQ(again->creation_depth, 0u);
  EXPECT_EQ(again->wait.State(), kNotWaiting);
  // The sequence goes on: a report unwinding the old thread sees that the slot changed.
  EXPECT_GT(again->wait.word.load() >> 32, 7u);
  EXPECT_EQ(again->lifecycle.load(), 0u);
  ReleaseRecord(again);
}

// Records of a newly mapped chunk are constructed there, not zero bytes: taking one from the free
// list does not construct it again.
TEST(Registry, RecordOfAFreshChunkHasTheDefaults) {
  std::vector<ThreadRecord*> taken;
  const size_t allocated = AllocatedRecordCount();
  while (AllocatedRecordCount() == allocated) {
    ThreadRecord* record = AllocateRecord();
    ASSERT_NE(record, nullptr);
    taken.push_back(record);
  }
  const ThreadRecord* fresh = taken.back();
  EXPECT_EQ(fresh->creator_tid, -1);
  EXPECT_EQ(fresh->test_source, static_cast<uint32_t>(TL_TEST_UNKNOWN));
  EXPECT_EQ(fresh->wait.State(), kNotWaiting);
  EXPECT_EQ(fresh->prev, nullptr);
  for (ThreadRecord* record : taken) ReleaseRecord(record);
}

TEST(Registry, ConcurrentAllocationAndReleaseKeepsCountsConsistent) {
  size_t before = LiveRecordCount();
  auto churn = [](void*) -> void* {
    for (int i = 0; i < 20000; ++i) {
      ThreadRecord* r = CreatedRecord();
      PublishHandle(r, RegistryHandle(5000 + (i % 64)));
      FindRecord(RegistryHandle(5000 + (i % 64)));
      MarkLifecycle(r, kDetached);
      MarkLifecycle(r, kFinished);
    }
    return nullptr;
  };
  pthread_t threads[4];
  for (pthread_t& t : threads) pthread_create(&t, nullptr, churn, nullptr);
  for (pthread_t t : threads) pthread_join(t, nullptr);
  EXPECT_EQ(LiveRecordCount(), before);
}

}  // namespace
}  // namespace threadleak
