// Words shared by the wait-graph analysis, its text helpers and the DOT writer, so a thread or an
// object is named the same way everywhere. Internal to the report module.
#ifndef THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_PHRASES_H_
#define THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_PHRASES_H_

#include <cstdint>
#include <string>
#include <unordered_map>

#include "preload/snapshot.h"

namespace threadleak {

// Finds a snapshot's threads by tid. When two threads share a tid (it should not happen), the
// first one wins.
class ThreadIndex {
 public:
  explicit ThreadIndex(const tl_snapshot& snapshot);
  // The index of the thread with `tid` in snapshot.threads, or -1.
  int Find(int32_t tid) const;
  const tl_thread* Thread(int32_t tid) const;

 private:
  const tl_snapshot& snapshot_;
  std::unordered_map<int32_t, int> by_tid_;
};

// A thread name in double quotes, every byte of it: quotes and backslashes escaped, control
// bytes, DEL and bytes that are not UTF-8 as \xNN; UTF-8 characters kept (as in the text report).
std::string QuotedName(const char* name);

// `thread 4243 "worker-2"`, or `thread 4243` when the thread has no name or is not in the
// snapshot.
std::string ThreadLabel(const ThreadIndex& index, int32_t tid);

// What a state waits on, for sentences: "mutex", "condition variable", "rwlock", "semaphore",
// "barrier", "pthread", "futex"; "object" for the others.
const char* ObjectNoun(uint32_t state);

// What another thread does to the object of a wait that needs waking: "signalled or waited on"
// (cond), "posted or waited on" (sem), "woken or waited on" (futex).
const char* WakerVerbs(uint32_t state);

// "mutex 0x1f00".
std::string ObjectPhrase(uint32_t state, uintptr_t object);

// One edge of the wait-for graph as a clause, `target` naming the thread waited for:
// "waits for mutex 0x1f00 held by thread 4243 "b"", "waits for rwlock 0x1f00 held for writing by
// ...", "joins ...".
std::string WaitClause(uint32_t state, uintptr_t object, const std::string& target);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_WAIT_GRAPH_PHRASES_H_
