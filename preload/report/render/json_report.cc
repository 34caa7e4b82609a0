#include "preload/report/render/json_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "preload/report/analysis/thread_groups.h"
#include "preload/report/render/escape.h"
#include "preload/report/render/frame_format.h"
#include "preload/report/render/phrases.h"
#include "preload/report/render/syscall_names.h"
#include "preload/report/render/wait_graph_text.h"

#ifndef THREADLEAK_VERSION
#define THREADLEAK_VERSION "unknown"
#endif

namespace threadleak {
namespace {

const char* TriggerName(uint32_t trigger) {
  switch (trigger) {
    case TL_TRIGGER_EXIT:
      return "exit";
    case TL_TRIGGER_SIGNAL:
      return "signal";
    case TL_TRIGGER_API:
      return "api";
    case TL_TRIGGER_TIMEOUT:
      return "timeout";
    case TL_TRIGGER_WATCHDOG:
      return "watchdog";
    case TL_TRIGGER_FATAL_SIGNAL:
      return "fatal_signal";
  }
  return "unknown";
}

// The verdict a report gives a thread it lists: exit and API reports list leaks; dumps list
// every thread alive; the watchdog lists threads blocked too long.
const char* Verdict(uint32_t kind) {
  switch (kind) {
    case TL_REPORT_DUMP:
      return "alive";
    case TL_REPORT_WATCHDOG:
      return "blocked";
    case TL_REPORT_ABANDONED:
      return "abandoned";
    default:
      return "leaked";
  }
}

std::string Deadlocks(const WaitGraphAnalysis& graph) {
  std::string out = "[";
  for (size_t d = 0; d < graph.deadlocks.size(); ++d) {
    const Deadlock& deadlock = graph.deadlocks[d];
    out += d ? ",{\"tids\":[" : "{\"tids\":[";
    for (size_t i = 0; i < deadlock.tids.size(); ++i) {
      out += (i ? "," : "") + std::to_string(deadlock.tids[i]);
    }
    out += "],\"edges\":[";
    for (size_t i = 0; i < deadlock.edges.size(); ++i) {
      const WaitEdge& edge = deadlock.edges[i];
      out += std::string(i ? "," : "") + "{\"from\":" + std::to_string(edge.from) +
             ",\"to\":" + std::to_string(edge.to) +
             ",\"state\":" + JsonString(tl_state_name(edge.state)) +
             ",\"object\":" + JsonString(HexAddress(edge.object)) + "}";
    }
    out += "]}";
  }
  return out + "]";
}

// Groups of the threads the report counts (suppressed ones are in no group).
std::string Groups(const ReportContext& context) {
  std::vector<SymbolizedThread> threads;
  for (size_t i = 0; i < context.threads.size(); ++i) {
    if (context.notes[i].suppressed_by < 0) threads.push_back(context.threads[i]);
  }
  std::string out = "[";
  bool first_group = true;
  for (const ThreadGroup& group : GroupThreads(threads)) {
    const SymbolizedThread& representative = threads[group.members.front()];
    int64_t least = -1, most = -1;
    std::string tids;
    for (size_t index : group.members) {
      const tl_thread& raw = *threads[index].raw;
      tids += (tids.empty() ? "" : ",") + std::to_string(raw.tid);
      if (raw.blocked_ns < 0) continue;
      least = least < 0 ? raw.blocked_ns : std::min(least, raw.blocked_ns);
      most = std::max(most, raw.blocked_ns);
    }
    const SourceFrame* top = TopUserFrame(representative.stack);
    out += first_group ? "" : ",";
    first_group = false;
    out += "{\"count\":" + std::to_string(group.members.size());
    out += ",\"tids\":[" + tids + "]";
    out += ",\"state\":" + JsonString(tl_state_name(representative.raw->state));
    out += ",\"top\":" + (top != nullptr ? JsonString(top->function) : "null");
    out += ",\"blocked_ms_min\":" + (least >= 0 ? std::to_string(least / 1'000'000) : "null");
    out += ",\"blocked_ms_max\":" + (most >= 0 ? std::to_string(most / 1'000'000) : "null");
    out += "}";
  }
  return out + "]";
}

// A thread name's every byte: the name as a string, and, when it is not UTF-8 (a JSON string
// cannot carry such bytes), "name_hex" with each byte.
std::string NameFields(const char* name) {
  const std::string_view bytes(name, strnlen(name, TL_NAME_LEN));
  std::string out = "\"name\":" + JsonString(bytes);
  if (!IsValidUtf8(bytes)) out += ",\"name_hex\":" + JsonString(HexBytes(bytes));
  return out;
}

std::string Thread(const SymbolizedThread& thread, const ThreadNotes& notes,
                   const ReportContext& context, const WaitGraphText& words) {
  const tl_thread& raw = *thread.raw;
  bool has_object = raw.object != 0 && raw.state != TL_STATE_SLEEP;
  std::string out = "{\"tid\":" + std::to_string(raw.tid);
  out += "," + NameFields(raw.name);
  out += ",\"state\":" + JsonString(tl_state_name(raw.state));
  out += ",\"object\":" + (has_object ? JsonString(HexAddress(raw.object)) : "null");
  out += ",\"blocked_ms\":" +
         (raw.blocked_ns >= 0 ? std::to_string(raw.blocked_ns / 1'000'000) : std::string("null"));
  // The wait's start was not recorded (no time limit, no clock read): counted from the first
  // report that saw it.
  if (raw.blocked_ns >= 0 && (raw.flags & TL_THREAD_BLOCKED_AT_LEAST)) {
    out += ",\"blocked_ms_at_least\":true";
  }
  out += ",\"syscall\":" +
         (raw.syscall_number >= 0 ? JsonString(SyscallName(raw.syscall_number)) : "null");
  out += ",\"main\":" + std::string(raw.flags & TL_THREAD_MAIN ? "true" : "false");
  if (raw.flags & TL_THREAD_EXITING) out += ",\"exiting\":true";
  if (raw.flags & TL_THREAD_DYING) out += ",\"dying\":true";
  const ThreadAnalysis& analysis = context.AnalysisOf(thread);
  // A dump or watchdog report with leak_scan=1 says which of the live threads are abandoned.
  const bool abandoned = context.snapshot->kind != TL_REPORT_LEAKS &&
                         analysis.basis == ThreadAnalysis::Basis::kUnreachable;
  // The thread whose exit cannot finish is where the exit stopped, not a leak.
  const char* verdict = notes.suppressed_by >= 0          ? "ignored"
                        : (raw.flags & TL_THREAD_EXITING) ? "exiting"
                        : analysis.deadlocked             ? "deadlocked"
                        : abandoned                       ? "abandoned"
                                                          : Verdict(context.snapshot->kind);
  out += ",\"verdict\":" + JsonString(verdict);
  out += ",\"certainty\":" + JsonString(CertaintyName(analysis.certainty));
  out += ",\"basis\":" + JsonString(BasisName(analysis.basis));
  out += ",\"reason\":" + JsonString(words.Reason(analysis));
  out += ",\"blocked_by\":[";
  for (size_t i = 0; i < analysis.blocked_by.size(); ++i) {
    out += (i ? "," : "") + std::to_string(analysis.blocked_by[i]);
  }
  out += "],\"waits_on_deadlock\":" +
         (analysis.waits_on_deadlock ? std::to_string(analysis.waits_on_deadlock) : "null");
  out += ",\"exit_would_hang\":" + std::string(analysis.exit_would_hang ? "true" : "false");
  out += ",\"rwlock_readers\":" + (raw.state == TL_STATE_RWLOCK && raw.rwlock_readers > 0
                                       ? std::to_string(raw.rwlock_readers)
                                       : std::string("null"));
  if (notes.suppressed_by >= 0) {
    const SuppressionRule& rule = context.rules[notes.suppressed_by];
    out += ",\"suppressed_by\":" + JsonString(RuleText(rule) + " (" + RuleSource(rule) + ")");
  }
  out += ",\"test\":" + (notes.test.empty() ? std::string("null") : JsonString(notes.test));
  const char* test_source = TestSourceName(notes.test_source);
  out += ",\"test_source\":" + (test_source != nullptr ? JsonString(test_source) : "null");
  const char* missing = raw.stack.depth == 0 ? StackMissingPhrase(raw.stack_missing) : nullptr;
  out += ",\"stack_missing\":" + (missing != nullptr ? JsonString(missing) : std::string("null"));
  out += ",\"stack\":";
  out += JsonFrames(thread.stack);  // cached per distinct stack: append, never copy twice
  bool creator_known = raw.creator_tid >= 0;
  out += ",\"created_by\":{\"tid\":" + (creator_known ? std::to_string(raw.creator_tid) : "null");
  out += "," + (creator_known ? NameFields(raw.creator_name) : "\"name\":null");
  out += ",\"stack\":";
  out += JsonFrames(thread.creation);
  out += "}";
  return out + "}";
}

}  // namespace

std::string RenderJsonReport(const tl_snapshot& snapshot,
                             const std::vector<SymbolizedThread>& threads) {
  return RenderJsonReport(MakeReportContext(snapshot, threads, {}));
}

std::string RenderJsonReport(const ReportContext& context) {
  const tl_snapshot& snapshot = *context.snapshot;
  const std::vector<SymbolizedThread>& threads = context.threads;
  std::string out = "{\"tool\":\"threadleak\",\"version\":\"" THREADLEAK_VERSION "\"";
  out += ",\"pid\":" + std::to_string(snapshot.pid);
  out += ",\"trigger\":\"" + std::string(TriggerName(snapshot.trigger)) + "\"";
  if (snapshot.trigger == TL_TRIGGER_FATAL_SIGNAL) {
    out += ",\"signal\":\"" + FatalSignalName(snapshot.fatal_signal) + "\"";
  }
  bool lists_leaks = snapshot.kind == TL_REPORT_LEAKS;
  out += ",\"leaks\":" + std::to_string(lists_leaks ? context.LeakCount() : 0);
  out += ",\"threads\":[";
  const WaitGraphText words(snapshot, context.graph);
  for (size_t i = 0; i < threads.size(); ++i) {
    if (i > 0) out += ",";
    out += Thread(threads[i], context.notes[i], context, words);
  }
  out += "],\"groups\":" + Groups(context);
  out += ",\"deadlocks\":" + Deadlocks(context.graph);
  if (context.print_suppressions) {
    std::vector<size_t> uses = SuppressionUse(context);
    out += ",\"suppressions_used\":[";
    bool first = true;
    for (size_t i = 0; i < uses.size(); ++i) {
      if (uses[i] == 0) continue;
      out += std::string(first ? "" : ",") + "{\"rule\":" + JsonString(RuleText(context.rules[i])) +
             ",\"source\":" + JsonString(RuleSource(context.rules[i])) +
             ",\"threads\":" + std::to_string(uses[i]) + "}";
      first = false;
    }
    out += "]";
  }
  return out + "}\n";
}

}  // namespace threadleak
