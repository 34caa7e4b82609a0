#include "preload/report/text_report.h"

#include <cinttypes>
#include <cstdio>
#include <map>

#include "preload/report/frame_format.h"
#include "preload/report/syscall_names.h"

namespace threadleak {
namespace {

const char* TriggerPhrase(uint32_t trigger) {
  switch (trigger) {
    case TL_TRIGGER_EXIT:
      return "at exit";
    case TL_TRIGGER_SIGNAL:
      return "in a dump on signal";
    case TL_TRIGGER_API:
      return "on request";
    case TL_TRIGGER_TIMEOUT:
      return "at the time limit";
    case TL_TRIGGER_WATCHDOG:
      return "by the watchdog";
  }
  return "";
}

// What the thread waits on, e.g. "condition variable 0x55d0c8a0, blocked 2.01 s".
std::string WaitDetail(const tl_thread& thread) {
  std::string detail;
  auto with_object = [&](const char* what) {
    detail = std::string(what) + " " + HexAddress(thread.object);
  };
  switch (thread.state) {
    case TL_STATE_MUTEX:
      with_object("mutex");
      break;
    case TL_STATE_COND:
      with_object("condition variable");
      break;
    case TL_STATE_RWLOCK:
      with_object("rwlock");
      break;
    case TL_STATE_SEM:
      with_object("semaphore");
      break;
    case TL_STATE_BARRIER:
      with_object("barrier");
      break;
    case TL_STATE_JOIN:
      with_object("joining pthread");
      break;
    case TL_STATE_FUTEX:
      with_object("futex");
      break;
    case TL_STATE_IO:
      if (thread.syscall_number >= 0) detail = "in " + SyscallName(thread.syscall_number);
      break;
    default:
      break;
  }
  if (thread.blocked_ns >= 0) {
    if (!detail.empty()) detail += ", ";
    detail += "blocked " + FormatDuration(thread.blocked_ns);
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

void AppendThread(std::string& out, const SymbolizedThread& thread) {
  const tl_thread& raw = *thread.raw;
  out += "[Thread " + std::to_string(raw.tid) + " " + Quoted(raw.name) + " in state " +
         tl_state_name(raw.state);
  if (std::string detail = WaitDetail(raw); !detail.empty()) out += " (" + detail + ")";
  if (const SourceFrame* top = TopUserFrame(thread.stack)) {
    out += ", with " + top->function + " on top of the stack:\n";
  } else if (raw.state == TL_STATE_FINISHED) {
    out += ": it finished but was never joined or detached\n";
  } else {
    out += ":\n";
  }
  AppendTextFrames(out, thread.stack);
  if (raw.creator_tid < 0 && thread.creation.empty()) {
    out += " created by a thread threadleak did not see (before it loaded, or with raw clone)\n";
  } else {
    out += " created by ";
    if (const SourceFrame* top = TopUserFrame(thread.creation)) out += top->function + " in ";
    out += "thread " + std::to_string(raw.creator_tid) + " " + Quoted(raw.creator_name) + ":\n";
    AppendTextFrames(out, thread.creation);
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
  size_t count = threads.size();
  std::string out = "threadleak: found " + std::to_string(count) +
                    (count == 1 ? " unexpected thread " : " unexpected threads ") +
                    TriggerPhrase(snapshot.trigger) + "\n";
  std::map<std::string, int> per_state;
  for (const SymbolizedThread& thread : threads) {
    AppendThread(out, thread);
    ++per_state[tl_state_name(thread.raw->state)];
  }
  out += "SUMMARY: threadleak: " + std::to_string(count) +
         (count == 1 ? " leaked thread" : " leaked threads");
  if (!per_state.empty()) {
    out += " (";
    bool first = true;
    for (const auto& [state, n] : per_state) {
      out += (first ? "" : ", ") + std::to_string(n) + " " + state;
      first = false;
    }
    out += ")";
  }
  out += "\n";
  return out;
}

}  // namespace threadleak
