#include "preload/report/report_context.h"

#include <map>

#include "preload/report/analysis/test_attribution.h"

namespace threadleak {

size_t ReportContext::LeakCount() const {
  size_t count = 0;
  for (size_t i = 0; i < notes.size(); ++i) {
    // The thread whose exit cannot finish is where the exit stopped, not a leak.
    const bool exiting = threads[i].raw->flags & TL_THREAD_EXITING;
    count += notes[i].suppressed_by < 0 && !exiting;
  }
  return count;
}

ReportContext MakeReportContext(const tl_snapshot& snapshot, std::vector<SymbolizedThread> threads,
                                std::vector<SuppressionRule> rules, const Reachability* reach) {
  ReportContext context{&snapshot, std::move(threads), {}, std::move(rules), false, {}, false};
  context.graph = AnalyzeWaitGraph(snapshot, reach);
  context.scanned = reach != nullptr;
  context.notes.resize(context.threads.size());
  std::map<const std::vector<SourceFrame>*, std::string> test_of_stack;  // per distinct stack
  for (size_t i = 0; i < context.threads.size(); ++i) {
    ThreadNotes& note = context.notes[i];
    const SymbolizedThread& thread = context.threads[i];
    // GoogleTest's state when the thread was created, when the shim read it; else the test
    // whose body is in the creation stack.
    ThreadTest test = TestReadAtCreation(*thread.raw);
    if (test.source == TestSource::kUnknown) {
      auto [it, inserted] = test_of_stack.try_emplace(&thread.creation.get());
      if (inserted) it->second = CreatingTest(thread);
      if (!it->second.empty()) test = {it->second, TestSource::kStack};
    }
    note.test = std::move(test.test);
    note.test_source = test.source;
    if (snapshot.kind == TL_REPORT_LEAKS) {
      note.suppressed_by = MatchSuppression(context.rules, context.threads[i]);
    }
  }
  return context;
}

std::vector<size_t> SuppressionUse(const ReportContext& context) {
  std::vector<size_t> uses(context.rules.size());
  for (const ThreadNotes& note : context.notes) {
    if (note.suppressed_by >= 0) ++uses[note.suppressed_by];
  }
  return uses;
}

}  // namespace threadleak
