// The words every writer shares, so that a thread, an object, a wait or a rule is named the same
// way in the text report, JSON's human-readable fields and the DOT graph. Internal to the report
// module.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_PHRASES_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_PHRASES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/analysis/suppression_rules.h"
#include "preload/report/analysis/wait_graph.h"

namespace threadleak {

// A thread name in double quotes, escaped as all program text in reports (render/escape.h:
// ReadableString).
std::string QuotedName(const char* name);

// `thread 4243 "worker-2"`, or `thread 4243` when the thread has no name or is not in the
// snapshot.
std::string ThreadLabel(const ThreadIndex& index, int32_t tid);

// Why a thread's stack is missing (tl_thread::stack_missing), as a clause: "it runs with
// threadleak's sampling signal blocked, ...", or null for TL_MISSING_UNKNOWN.
const char* StackMissingPhrase(uint32_t missing);

// What a state waits on, for sentences: "mutex", "condition variable", "rwlock", "semaphore",
// "barrier", "pthread", "futex"; "object" for the others.
const char* ObjectNoun(uint32_t state);

// What another thread does to the object of a wait that needs waking: "signalled or waited on"
// (cond), "posted or waited on" (sem), "woken or waited on" (futex).
const char* WakerVerbs(uint32_t state);

// "mutex 0x1f00".
std::string ObjectPhrase(uint32_t state, uintptr_t object);
inline std::string ObjectPhrase(const WaitObject& object) {
  return ObjectPhrase(object.state, object.address);
}

// One edge of the wait-for graph as a clause, `target` naming the thread waited for:
// "waits for mutex 0x1f00 held by thread 4243 "b"", "waits for rwlock 0x1f00 held for writing by
// ...", "joins ...".
std::string WaitClause(uint32_t state, uintptr_t object, const std::string& target);

// Sorted tids as runs: "4242-4245, 4250". After `max_runs` runs: ", … (N in all)".
std::string DescribeTids(std::vector<int32_t> tids, size_t max_runs = 8);

// Where a suppression rule comes from: "FILE:LINE" for a user's rule, "built-in: " and why it
// exists for a built-in one.
std::string RuleSource(const SuppressionRule& rule);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_PHRASES_H_
