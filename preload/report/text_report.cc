#include "preload/report/text_report.h"

#include <algorithm>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <map>

#include "preload/report/frame_format.h"
#include "preload/report/report_context.h"
#include "preload/report/syscall_names.h"
#include "preload/report/thread_groups.h"

namespace threadleak {
namespace {

std::string Plural(size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

std::string Header(const tl_snapshot& snapshot, size_t count) {
  std::string process = " of process " + std::to_string(snapshot.pid);
  switch (snapshot.kind) {
    case TL_REPORT_DUMP: {
      const char* why = snapshot.trigger == TL_TRIGGER_SIGNAL    ? " (on signal)"
                        : snapshot.trigger == TL_TRIGGER_TIMEOUT ? " at the time limit"
                                                                 : " (on request)";
      return "threadleak: dump of " + Plural(count, "thread", "threads") + process + why;
    }
    case TL_REPORT_WATCHDOG:
      return "threadleak: watchdog: " + Plural(count, "thread", "threads") +
             " blocked past the limit" + process;
    default:
      return "threadleak: found " + Plural(count, "unexpected thread", "unexpected threads") +
             (snapshot.trigger == TL_TRIGGER_API ? " since the mark" : " at exit");
  }
}

std::string SummaryNoun(uint32_t kind, size_t count) {
  if (kind == TL_REPORT_DUMP) return Plural(count, "thread", "threads");
  if (kind == TL_REPORT_WATCHDOG) return Plural(count, "blocked thread", "blocked threads");
  return Plural(count, "leaked thread", "leaked threads");
}

// The kind of object a state waits on ("condition variable"), or null.
const char* ObjectKind(uint32_t state) {
  switch (state) {
    case TL_STATE_MUTEX:
      return "mutex";
    case TL_STATE_COND:
      return "condition variable";
    case TL_STATE_RWLOCK:
      return "rwlock";
    case TL_STATE_SEM:
      return "semaphore";
    case TL_STATE_BARRIER:
      return "barrier";
    case TL_STATE_JOIN:
      return "joining pthread";
    case TL_STATE_FUTEX:
      return "futex";
    default:
      return nullptr;
  }
}

// What a group of threads (often one) waits on, e.g. "condition variable 0x55d0c8a0, blocked
// 2.01 s", or for several: "3 different condition variables, blocked 1.20 s – 2.01 s".
std::string WaitDetail(const std::vector<const tl_thread*>& threads) {
  const tl_thread& first = *threads.front();
  std::string detail;
  if (const char* kind = ObjectKind(first.state)) {
    bool same_object = std::all_of(threads.begin(), threads.end(),
                                   [&](const tl_thread* t) { return t->object == first.object; });
    detail = same_object ? std::string(kind) + " " + HexAddress(first.object)
                         : std::to_string(threads.size()) + " different objects (" + kind + ")";
  } else if (first.state == TL_STATE_IO && first.syscall_number >= 0) {
    detail = "in " + SyscallName(first.syscall_number);
  }
  int64_t least = INT64_MAX, most = -1;
  for (const tl_thread* thread : threads) {
    if (thread->blocked_ns < 0) continue;
    least = std::min(least, thread->blocked_ns);
    most = std::max(most, thread->blocked_ns);
  }
  if (most >= 0) {
    if (!detail.empty()) detail += ", ";
    detail += "blocked " + FormatDuration(least);
    if (FormatDuration(most) != FormatDuration(least)) detail += " – " + FormatDuration(most);
  }
  return detail;
}

// A thread name in quotes. Names are the program's data: a control character would break the
// report's one-line-per-item shape, so it is escaped.
std::string Quoted(const char* name) {
  std::string out = "\"";
  for (const char* c = name; *c != '\0'; ++c) {
    unsigned char byte = static_cast<unsigned char>(*c);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += *c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += *c;
    }
  }
  return out + "\"";
}

// `"worker-1"` for one name; `"a", "b", … (N names)` for many different ones.
std::string Names(const std::vector<const tl_thread*>& threads, size_t max_names = 5) {
  std::vector<std::string> names;
  for (const tl_thread* thread : threads) {
    std::string name = Quoted(thread->name);
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
    return "Thread " + std::to_string(threads[0]->tid) + " " + Quoted(threads[0]->name);
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
    return "thread " + std::to_string(tids[0]) + " " + Quoted(threads[0]->creator_name);
  }
  return "threads " + DescribeTids(tids);
}

// One block for a group of threads with the same state and stacks; `representative` is the
// first of them, whose symbolized stacks stand for all.
void AppendGroup(std::string& out, const SymbolizedThread& representative,
                 const std::vector<const tl_thread*>& members, const std::string& test) {
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
    if (!test.empty()) out += ", in test " + test;
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
  // Suppressed threads are left out of the text; the summary counts them.
  std::vector<SymbolizedThread> threads;
  std::vector<int> tests;  // index into test_names, splitting groups by creating test
  std::vector<std::string> test_names;
  for (size_t i = 0; i < context.threads.size(); ++i) {
    if (context.notes[i].suppressed_by >= 0) continue;
    threads.push_back(context.threads[i]);
    auto found = std::find(test_names.begin(), test_names.end(), context.notes[i].test);
    tests.push_back(static_cast<int>(found - test_names.begin()));
    if (found == test_names.end()) test_names.push_back(context.notes[i].test);
  }
  size_t suppressed = context.threads.size() - threads.size();
  std::string out = Header(snapshot, threads.size()) + "\n";
  std::map<std::string, int> per_state;
  for (const ThreadGroup& group : GroupThreads(threads, tests)) {
    std::vector<const tl_thread*> members;
    for (size_t index : group.members) members.push_back(threads[index].raw);
    AppendGroup(out, threads[group.members.front()], members,
                test_names[tests[group.members.front()]]);
    per_state[tl_state_name(members.front()->state)] += static_cast<int>(members.size());
  }
  out += "SUMMARY: threadleak: " + SummaryNoun(snapshot.kind, threads.size());
  if (!per_state.empty()) {
    out += " (";
    bool first = true;
    for (const auto& [state, n] : per_state) {
      out += (first ? "" : ", ") + std::to_string(n) + " " + state;
      first = false;
    }
    out += ")";
  }
  if (suppressed > 0) out += "; " + std::to_string(suppressed) + " suppressed";
  out += "\n";
  return out;
}

}  // namespace threadleak
