// The wait-for graph in Graphviz DOT (format=dot). Nodes are named by tid, so the text is easy
// to grep: `4242 -> 4243 [label="mutex 0x1f00"];`.
#include "preload/report/render/dot_report.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "preload/report/render/escape.h"
#include "preload/report/render/frame_format.h"
#include "preload/report/render/phrases.h"
#include "preload/report/render/wait_graph_text.h"

namespace threadleak {
namespace {

// Text for inside a DOT double-quoted string, where Graphviz reads backslash escapes: quotes and
// backslashes escaped, so what the text report shows — names already escaped by QuotedName
// (render/escape.h), phrases — shows the same in the graph; a byte that cannot stand in the file
// (a control byte, a byte that is not UTF-8) shows as \xNN, as in the text report.
std::string DotEscape(std::string_view text) {
  std::string out;
  AppendReadable(out, text, "\\\\x");
  return out;
}

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

std::string Node(const tl_thread& thread, const ThreadAnalysis& analysis,
                 const WaitGraphText& words) {
  std::string name = std::to_string(thread.tid);
  if (thread.name[0] != '\0') name += " " + QuotedName(thread.name);
  // "\n" is DOT's own line break, outside the escaped text.
  std::string out = "  " + std::to_string(thread.tid) + " [label=\"" + DotEscape(name) + "\\n" +
                    tl_state_name(thread.state);
  out += "\", ";
  if (analysis.deadlocked) {
    out += "style=\"filled,bold\", fillcolor=\"red\", color=\"red\"";
  } else if (analysis.certainty == Certainty::kDefinite) {
    out += "style=\"filled,bold\", fillcolor=\"orange\"";
  } else {
    out += "style=\"filled\", fillcolor=\"yellow\"";
  }
  out += ", tooltip=\"" + std::string(VerdictPhrase(analysis)) + ": " +
         DotEscape(words.Reason(analysis)) + " (basis: " + BasisName(analysis.basis) + ")\"];\n";
  return out;
}

std::string EdgeLabel(uint32_t state, uintptr_t object) {
  return std::string(tl_state_name(state)) + " " + HexAddress(object);
}

}  // namespace

std::string RenderDot(const tl_snapshot& snapshot, const WaitGraphAnalysis& analysis) {
  const ThreadIndex index(snapshot);
  const WaitGraphText words(snapshot, analysis);
  std::string out = "digraph threadleak {\n";
  out += "  graph [label=\"threadleak: pid " + std::to_string(snapshot.pid) + ", " +
         TriggerPhrase(snapshot.trigger) + "\", labelloc=\"t\"];\n";
  out += "  node [shape=\"box\", fontname=\"monospace\"];\n";
  for (uint32_t i = 0; i < snapshot.thread_count && i < analysis.threads.size(); ++i) {
    out += Node(snapshot.threads[i], analysis.threads[i], words);
  }

  std::set<int32_t> outside;  // blockers and wakers not in the snapshot, drawn once
  std::set<int32_t> exited;   // blockers that exited, drawn once
  std::string edges;
  auto outside_node = [&](int32_t tid, const char* what) {
    if (index.Find(tid) >= 0 || !outside.insert(tid).second) return;
    out += "  " + std::to_string(tid) + " [label=\"" + std::to_string(tid) + "\\n" + what +
           "\", style=\"dashed\"];\n";
  };
  for (uint32_t i = 0; i < snapshot.thread_count && i < analysis.threads.size(); ++i) {
    const tl_thread& t = snapshot.threads[i];
    const ThreadAnalysis& a = analysis.threads[i];
    const std::string from = "  " + std::to_string(t.tid) + " -> ";
    for (int32_t blocker : a.blocked_by) {
      std::string to = std::to_string(blocker);
      if (t.blocker_exited) {
        // Its tid may belong to a new thread of the snapshot by now: a node of its own.
        to = "\"exited " + to + "\"";
        if (exited.insert(blocker).second) {
          out += "  " + to + " [label=\"" + std::to_string(blocker) +
                 "\\nexited\", style=\"dashed\"];\n";
        }
      } else {
        outside_node(blocker, "not in this report");
      }
      edges += from + to + " [label=\"" + EdgeLabel(t.state, t.object) + "\"" +
               (a.deadlocked ? ", color=\"red\", penwidth=2" : "") + "];\n";
    }
    if (a.blocked_by.empty() && t.state == TL_STATE_RWLOCK && t.rwlock_readers > 0) {
      const std::string node = "\"readers " + HexAddress(t.object) + "\"";
      out += "  " + node + " [label=\"" + std::to_string(t.rwlock_readers) +
             (t.rwlock_readers == 1 ? " reader" : " readers") + "\", shape=\"ellipse\", " +
             "style=\"dashed\"];\n";
      edges += from + node + " [label=\"" + EdgeLabel(t.state, t.object) + "\"];\n";
    }
    if ((t.state == TL_STATE_COND || t.state == TL_STATE_SEM || t.state == TL_STATE_FUTEX) &&
        !t.wakers_overflow) {
      const uint32_t count = std::min<uint32_t>(t.waker_count, TL_MAX_WAKERS);
      for (uint32_t k = 0; k < count; ++k) {
        if (t.wakers[k] == t.tid || t.wakers[k] == 0) continue;
        outside_node(t.wakers[k], "not in this report");
        edges += from + std::to_string(t.wakers[k]) + " [label=\"" + EdgeLabel(t.state, t.object) +
                 " (may wake it)\", style=\"dashed\"];\n";
      }
    }
  }
  return out + edges + "}\n";
}

}  // namespace threadleak
