// The wait-for graph's words (analysis/wait_graph.h): why each thread got its verdict, whom it
// waits for, the verdict words, the deadlock summary, the exit-hang warning and the SUMMARY
// counts. The one place of these phrases: the text report, JSON's "reason" and DOT's tooltips
// all take them from here. Fixed shapes, so people can grep them. Internal to the report module.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_WAIT_GRAPH_TEXT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_WAIT_GRAPH_TEXT_H_

#include <string>
#include <vector>

#include "preload/core/snapshot.h"
#include "preload/report/analysis/wait_graph.h"

namespace threadleak {

// The sentences about the threads of one analysis. Build once per report: it indexes the
// snapshot's threads by tid, so that 10,000 reasons cost 10,000 look-ups.
class WaitGraphText {
 public:
  // Both must outlive it.
  WaitGraphText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis);

  // Why `thread` (one of the analysis's) got its verdict, e.g. "nothing else has ever signalled
  // or waited on condition variable 0x1f00 (no other live thread can wake it)", "it waits for
  // mutex 0xb0 held by thread 11 "b", which waits for mutex 0xa0 held by this thread".
  std::string Reason(const ThreadAnalysis& thread) const;

  // Whom it waits for: `waiting for mutex 0x1f00 held by thread 4243 "worker-2"`, `waiting for
  // rwlock 0x1f00 held by 2 readers`, `waiting to join thread 4243 "worker-2"`. "" when it
  // waits for no particular thread (cond, sleep, ...) or nothing is known.
  std::string WaitingFor(const ThreadAnalysis& thread) const;

 private:
  const WaitGraphAnalysis& analysis_;
  const ThreadIndex index_;
};

// "deadlocked", "definitely leaked" or "possibly leaked": the word in front of the reason in the
// text report.
const char* VerdictPhrase(const ThreadAnalysis& thread);

// The JVM-style summary of the deadlocks, for the text report, right after its first line; ""
// when there are none. One deadlock:
//   Found one deadlock (2 threads):
//     thread 4242 "locker-a" waits for mutex 0x1f00 held by thread 4243 "locker-b"
//     thread 4243 "locker-b" waits for mutex 0x1f40 held by thread 4242 "locker-a"
// More than one: "Found 2 deadlocks:", then each as above with "Deadlock 1 of 2 (2 threads):"
// as its own first line.
std::string RenderDeadlockText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis);

// The exit-hang warning for a thread with exit_would_hang, e.g. `exit would hang: condition
// variable 0x1f00 is destroyed at exit (a static object's destructor) while this thread waits
// on it`.
std::string ExitHangPhrase(const ThreadAnalysis& thread);

// "2 deadlocked, 1 definitely leaked, 1 possibly leaked": the counts that are not zero, for the
// SUMMARY line; "" for no threads.
std::string VerdictCounts(const std::vector<const ThreadAnalysis*>& threads);
std::string VerdictCounts(const WaitGraphAnalysis& analysis);  // of all its threads

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_WAIT_GRAPH_TEXT_H_
