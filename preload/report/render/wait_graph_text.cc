// The wait-graph's words for the text report: the deadlock summary, the verdict words, the
// exit-hang warning and the SUMMARY counts. Fixed shapes, so people can grep them.
#include <string>

#include "preload/report/analysis/wait_graph.h"
#include "preload/report/render/wait_graph_phrases.h"

namespace threadleak {

const char* VerdictPhrase(const ThreadAnalysis& thread) {
  if (thread.deadlocked) return "deadlocked";
  return thread.certainty == Certainty::kDefinite ? "definitely leaked" : "possibly leaked";
}

const char* CertaintyName(Certainty certainty) {
  return certainty == Certainty::kDefinite ? "definite" : "possible";
}

std::string RenderDeadlockText(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis) {
  const size_t count = analysis.deadlocks.size();
  if (count == 0) return "";
  const ThreadIndex index(snapshot);
  std::string out;
  if (count > 1) out += "Found " + std::to_string(count) + " deadlocks:\n";
  for (size_t d = 0; d < count; ++d) {
    const Deadlock& deadlock = analysis.deadlocks[d];
    const size_t size = deadlock.tids.size();
    const std::string threads = std::to_string(size) + (size == 1 ? " thread" : " threads");
    if (count == 1) {
      out += "Found one deadlock (" + threads + "):\n";
    } else {
      out += "Deadlock " + std::to_string(d + 1) + " of " + std::to_string(count) + " (" + threads +
             "):\n";
    }
    for (const WaitEdge& edge : deadlock.edges) {
      out += "  " + ThreadLabel(index, edge.from) + " " +
             WaitClause(edge.state, edge.object, ThreadLabel(index, edge.to)) + "\n";
    }
  }
  return out;
}

std::string ExitHangPhrase(const tl_thread& thread) {
  return "exit would hang: " + ObjectPhrase(thread.state, thread.object) +
         " is destroyed at exit (a static object's destructor) while this thread waits on it";
}

std::string VerdictCounts(const WaitGraphAnalysis& analysis) {
  size_t deadlocked = 0, definite = 0, possible = 0;
  for (const ThreadAnalysis& t : analysis.threads) {
    if (t.deadlocked) {
      ++deadlocked;
    } else if (t.certainty == Certainty::kDefinite) {
      ++definite;
    } else {
      ++possible;
    }
  }
  std::string out;
  auto add = [&](size_t n, const char* what) {
    if (n == 0) return;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(deadlocked, "deadlocked");
  add(definite, "definitely leaked");
  add(possible, "possibly leaked");
  return out;
}

}  // namespace threadleak
