#include "preload/report/render/text_report.h"

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <map>

#include "preload/report/analysis/thread_groups.h"
#include "preload/report/analysis/wait_graph.h"
#include "preload/report/render/frame_format.h"
#include "preload/report/render/phrases.h"
#include "preload/report/render/syscall_names.h"
#include "preload/report/render/wait_graph_text.h"
#include "preload/report/report_context.h"

namespace threadleak {
namespace {

std::string Plural(size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

std::string Header(const tl_snapshot& snapshot, size_t count) {
  std::string process = " of process " + std::to_string(snapshot.pid);
  switch (snapshot.kind) {
    case TL_REPORT_DUMP: {
      std::string why = snapshot.trigger == TL_TRIGGER_SIGNAL    ? " (on signal)"
                        : snapshot.trigger == TL_TRIGGER_TIMEOUT ? " at the time limit"
                                                                 : " (on request)";
      if (snapshot.trigger == TL_TRIGGER_FATAL_SIGNAL) {
        why = ", which dies of " + FatalSignalName(snapshot.fatal_signal);
      }
      return "threadleak: dump of " + Plural(count, "thread", "threads") + process + why;
    }
    case TL_REPORT_WATCHDOG:
      return "threadleak: watchdog: " + Plural(count, "thread", "threads") +
             " blocked past the limit" + process;
    case TL_REPORT_ABANDONED:
      return "threadleak: watchdog: " + Plural(count, "thread", "threads") +
             " abandoned (nothing that can run reaches what they wait on)" + process;
    default:
      return "threadleak: found " + Plural(count, "unexpected thread", "unexpected threads") +
             (snapshot.trigger == TL_TRIGGER_API ? " since the mark" : " at exit");
  }
}

std::string SummaryNoun(uint32_t kind, size_t count) {
  if (kind == TL_REPORT_DUMP) return Plural(count, "thread", "threads");
  if (kind == TL_REPORT_WATCHDOG) return Plural(count, "blocked thread", "blocked threads");
  if (kind == TL_REPORT_ABANDONED) return Plural(count, "abandoned thread", "abandoned threads");
  return Plural(count, "leaked thread", "leaked threads");
}

// What a group of threads (often one) waits on, e.g. "condition variable 0x55d0c8a0, blocked
// 2.01 s", or for several: "3 different condition variables, blocked 1.20 s – 2.01 s".
std::string WaitDetail(const std::vector<const tl_thread*>& threads) {
  const tl_thread& first = *threads.front();
  std::string detail;
  if (first.state <= TL_STATE_FUTEX) {  // the states that wait on an object
    const char* kind = ObjectNoun(first.state);
    bool same_object = std::all_of(threads.begin(), threads.end(),
                                   [&](const tl_thread* t) { return t->object == first.object; });
    detail = same_object ? std::string(kind) + " " + HexAddress(first.object)
                         : std::to_string(threads.size()) + " different objects (" + kind + ")";
  } else if (first.state == TL_STATE_IO && first.syscall_number >= 0) {
    detail = "in " + SyscallName(first.syscall_number);
  }
  int64_t least = INT64_MAX, most = -1;
  bool lower_bound = false;  // some wait's start was not recorded: counted from a first look
  for (const tl_thread* thread : threads) {
    if (thread->blocked_ns < 0) continue;
    least = std::min(least, thread->blocked_ns);
    most = std::max(most, thread->blocked_ns);
    lower_bound = lower_bound || (thread->flags & TL_THREAD_BLOCKED_AT_LEAST) != 0;
  }
  if (most >= 0) {
    if (!detail.empty()) detail += ", ";
    detail += std::string("blocked ") + (lower_bound ? "at least " : "") + FormatDuration(least);
    if (FormatDuration(most) != FormatDuration(least)) detail += " – " + FormatDuration(most);
  }
  return detail;
}

// `"worker-1"` for one name; `"a", "b", … (N names)` for many different ones.
std::string Names(const std::vector<const tl_thread*>& threads, size_t max_names = 5) {
  std::vector<std::string> names;
  for (const tl_thread* thread : threads) {
    std::string name = QuotedName(thread->name);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::string out;
  for (size_t i = 0; i < names.size() && i < max_names; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max_names) out += ", … (" + std::to_string(names.size()) + " names)";
  return out;
}

// "Thread 4242 "worker"" or "5 threads 4242-4246 "worker"".
std::string Who(const std::vector<const tl_thread*>& threads) {
  if (threads.size() == 1) {
    return "Thread " + std::to_string(threads[0]->tid) + " " + QuotedName(threads[0]->name);
  }
  std::vector<int32_t> tids;
  for (const tl_thread* thread : threads) tids.push_back(thread->tid);
  return std::to_string(threads.size()) + " threads " + DescribeTids(tids) + " " + Names(threads);
}

std::string Creators(const std::vector<const tl_thread*>& threads) {
  std::vector<int32_t> tids;
  for (const tl_thread* thread : threads) {
    if (std::find(tids.begin(), tids.end(), thread->creator_tid) == tids.end()) {
      tids.push_back(thread->creator_tid);
    }
  }
  if (tids.size() == 1) {
    return "thread " + std::to_string(tids[0]) + " " + QuotedName(threads[0]->creator_name);
  }
  return "threads " + DescribeTids(tids);
}

// One block for a group of threads with the same state and stacks; `representative` is the
// first of them, whose symbolized stacks stand for all.
void AppendGroup(std::string& out, const SymbolizedThread& representative,
                 const std::vector<const tl_thread*>& members, const ThreadNotes& notes,
                 const ThreadAnalysis& analysis, const WaitGraphText& words, uint32_t kind) {
  const tl_thread& raw = *representative.raw;
  out += "[" + Who(members) + " in state " + tl_state_name(raw.state);
  if (std::string detail = WaitDetail(members); !detail.empty()) out += " (" + detail + ")";
  if (const SourceFrame* top = TopUserFrame(representative.stack)) {
    out += ", with " + top->function + " on top of the stack:\n";
  } else if (raw.state == TL_STATE_FINISHED) {
    out += members.size() == 1 ? ": it finished but was never joined or detached\n"
                               : ": they finished but were never joined or detached\n";
  } else {
    out += ":\n";
  }
  // Who it waits for and whether anything can still wake it (wait_graph.h). Dumps list live
  // threads: they say "leaked" only of a deadlock.
  if (std::string waiting_for = words.WaitingFor(analysis); !waiting_for.empty()) {
    out += " " + waiting_for + "\n";
  }
  if (raw.flags & TL_THREAD_DYING) {
    out +=
        " this thread took the signal the process dies of: its stack below is where the "
        "signal found it\n";
  }
  if (raw.flags & TL_THREAD_EXITING) {
    out +=
        " this thread called exit(), and its exit cannot finish: it waits here, in a "
        "destructor or exit handler, for what no thread will ever do\n";
  } else if (kind == TL_REPORT_LEAKS || analysis.deadlocked) {
    out += std::string(" ") + VerdictPhrase(analysis) + ": " + words.Reason(analysis) + "\n";
  } else if (analysis.basis == ThreadAnalysis::Basis::kUnreachable) {
    out += " abandoned: " + words.Reason(analysis) + "\n";  // a dump or watchdog, leak_scan=1
  }
  if (analysis.exit_would_hang) out += " " + ExitHangPhrase(analysis) + "\n";
  if (const char* missing = StackMissingPhrase(raw.stack_missing);
      missing != nullptr && raw.stack.depth == 0) {
    out += std::string(" no stack: ") + missing + "\n";
  }
  AppendTextFrames(out, representative.stack);
  if (raw.flags & TL_THREAD_MAIN) {
    out += " the main thread\n";
  } else if (raw.creator_tid < 0 && representative.creation.empty()) {
    out += " created by a thread threadleak did not see (before it loaded, or with raw clone)\n";
  } else {
    out += " created by ";
    if (const SourceFrame* top = TopUserFrame(representative.creation)) {
      out += top->function + " in ";
    }
    out += Creators(members);
    if (!notes.test.empty()) {
      out += ", in test " + notes.test;
    } else if (notes.test_source == TestSource::kNone) {
      out += ", outside any test (suite-level)";
    }
    out += ":\n";
    AppendTextFrames(out, representative.creation);
  }
  out += "]\n";
}

}  // namespace

std::string FormatDuration(int64_t nanos) {
  char buffer[32];
  if (nanos < 1'000'000'000) {
    snprintf(buffer, sizeof buffer, "%" PRId64 " ms", nanos / 1'000'000);
  } else {
    snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(nanos) / 1e9);
  }
  return buffer;
}

std::string RenderTextReport(const tl_snapshot& snapshot,
                             const std::vector<SymbolizedThread>& threads) {
  return RenderTextReport(MakeReportContext(snapshot, threads, {}));
}

std::string RenderTextReport(const ReportContext& context) {
  const tl_snapshot& snapshot = *context.snapshot;
  const WaitGraphText words(snapshot, context.graph);
  // Suppressed threads are left out of the text; the summary counts them.
  std::vector<SymbolizedThread> threads;
  // Groups never mix threads of different tests or different analysis lines.
  std::vector<int> group_keys;
  std::map<std::string, int> key_ids;
  for (size_t i = 0; i < context.threads.size(); ++i) {
    if (context.notes[i].suppressed_by >= 0) continue;
    threads.push_back(context.threads[i]);
    const ThreadAnalysis& analysis = context.AnalysisOf(context.threads[i]);
    // Not the reason itself: it names other threads, which differ from member to member; the
    // group prints its first member's.
    std::string key = context.notes[i].test + "|" +
                      (context.notes[i].test_source == TestSource::kNone ? "suite|" : "|") +
                      VerdictPhrase(analysis) + "|" + words.WaitingFor(analysis) + "|" +
                      (analysis.exit_would_hang ? "hang" : "");
    group_keys.push_back(key_ids.try_emplace(key, static_cast<int>(key_ids.size())).first->second);
  }
  size_t suppressed = context.threads.size() - threads.size();
  // The thread whose exit cannot finish is listed (where it waits is the news) but not counted.
  const int32_t* exiting = nullptr;
  for (const SymbolizedThread& thread : threads) {
    if (thread.raw->flags & TL_THREAD_EXITING) exiting = &thread.raw->tid;
  }
  const size_t leaked = threads.size() - (exiting != nullptr);
  std::string out = Header(snapshot, leaked);
  if (exiting != nullptr) {
    out += "; the exit of thread " + std::to_string(*exiting) + " cannot finish";
  }
  out += "\n";
  out += RenderDeadlockText(snapshot, context.graph);
  std::map<std::string, int> per_state;
  for (const ThreadGroup& group : GroupThreads(threads, group_keys)) {
    std::vector<const tl_thread*> members;
    for (size_t index : group.members) members.push_back(threads[index].raw);
    const SymbolizedThread& representative = threads[group.members.front()];
    size_t context_index = static_cast<size_t>(representative.raw - snapshot.threads);
    AppendGroup(out, representative, members, context.notes[context_index],
                context.AnalysisOf(representative), words, snapshot.kind);
    if (!(members.front()->flags & TL_THREAD_EXITING)) {
      per_state[tl_state_name(members.front()->state)] += static_cast<int>(members.size());
    }
  }
  out += "SUMMARY: threadleak: " + SummaryNoun(snapshot.kind, leaked);
  if (!per_state.empty()) {
    out += " (";
    bool first = true;
    for (const auto& [state, n] : per_state) {
      out += (first ? "" : ", ") + std::to_string(n) + " " + state;
      first = false;
    }
    out += ")";
  }
  if (snapshot.kind == TL_REPORT_LEAKS && !threads.empty()) {
    // How many of the threads shown are deadlocked, definitely or possibly leaked.
    std::vector<const ThreadAnalysis*> shown;
    for (const SymbolizedThread& thread : threads) {
      if (!(thread.raw->flags & TL_THREAD_EXITING)) shown.push_back(&context.AnalysisOf(thread));
    }
    if (std::string counts = VerdictCounts(shown); !counts.empty()) out += ": " + counts;
  }
  if (snapshot.kind != TL_REPORT_LEAKS) {
    size_t abandoned = 0;
    for (const SymbolizedThread& thread : threads) {
      abandoned += context.AnalysisOf(thread).basis == ThreadAnalysis::Basis::kUnreachable;
    }
    if (abandoned > 0) out += ": " + std::to_string(abandoned) + " abandoned";
  }
  if (suppressed > 0) out += "; " + std::to_string(suppressed) + " suppressed";
  out += "\n";
  return out;
}

std::string RenderSuppressionUse(const ReportContext& context) {
  std::vector<size_t> uses = SuppressionUse(context);
  std::string out = "threadleak: suppressions used:\n";
  bool any = false;
  for (size_t i = 0; i < uses.size(); ++i) {
    if (uses[i] == 0) continue;
    any = true;
    out += "  " + std::to_string(uses[i]) + (uses[i] == 1 ? " thread  " : " threads ") +
           RuleText(context.rules[i]) + "  (" + RuleSource(context.rules[i]) + ")\n";
  }
  if (!any) out += "  none matched\n";
  return out;
}

}  // namespace threadleak
