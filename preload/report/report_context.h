// Everything a report writer needs beyond the snapshot: the symbolized threads and what the
// report module concluded about each (suppressed? created by which test? its verdict, as facts
// the writers word).
#ifndef THREADLEAK_PRELOAD_REPORT_REPORT_CONTEXT_H_
#define THREADLEAK_PRELOAD_REPORT_REPORT_CONTEXT_H_

#include <string>
#include <vector>

#include "preload/report/analysis/suppression_rules.h"
#include "preload/report/analysis/test_attribution.h"
#include "preload/report/analysis/wait_graph.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {

struct ThreadNotes {
  int suppressed_by = -1;  // index into ReportContext::rules, or -1
  std::string test;        // GoogleTest test it belongs to ("Suite.Name"), or ""
  TestSource test_source = TestSource::kUnknown;  // where `test` comes from
};

struct ReportContext {
  const tl_snapshot* snapshot = nullptr;
  std::vector<SymbolizedThread> threads;
  std::vector<ThreadNotes> notes;  // parallel to threads
  std::vector<SuppressionRule> rules;
  bool print_suppressions = false;  // list the rules that matched, with counts
  // Who blocks whom, over the whole snapshot (suppressed threads included: leaving one out
  // could hide a deadlock it is part of).
  WaitGraphAnalysis graph;
  bool scanned = false;  // a reachability scan ran (it may have failed: graph.scan_failure)

  const ThreadAnalysis& AnalysisOf(const SymbolizedThread& thread) const {
    return graph.threads[static_cast<size_t>(thread.raw - snapshot->threads)];
  }

  // Threads a leak report counts: all but the suppressed ones.
  size_t LeakCount() const;
};

// Symbolized threads with notes: suppression (leak reports only) and test attribution.
// `reach`: the reachability scan of the snapshot, or null when none ran (wait_graph.h).
ReportContext MakeReportContext(const tl_snapshot& snapshot, std::vector<SymbolizedThread> threads,
                                std::vector<SuppressionRule> rules,
                                const Reachability* reach = nullptr);

// How many threads each rule suppressed (parallel to context.rules).
std::vector<size_t> SuppressionUse(const ReportContext& context);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_REPORT_CONTEXT_H_
