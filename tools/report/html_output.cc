// One self-contained HTML page: inline style, inline SVG, no script, nothing fetched. Sized by
// groups, not threads: a dump of 10,000 threads parked on a few stacks is a few groups, their
// tids written as ranges.
#include <map>
#include <set>
#include <tuple>

#include "tools/report/graphviz.h"
#include "tools/report/outputs.h"

namespace threadleak::report_tool {
namespace {

// Edges drawn at most; a graph past that is not readable anyway, and the page says so.
constexpr size_t kMaxGraphEdges = 400;
constexpr size_t kMaxProcessRows = 50;

std::string Html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A DOT string literal.
std::string Dot(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";  // a line break in a Graphviz label
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string VerdictOf(const ThreadGroup& group) {
  if (group.verdicts.count("deadlocked")) return "deadlocked";
  if (group.verdicts.count("leaked")) return "leaked";
  return group.verdicts.empty() ? "alive" : *group.verdicts.begin();
}

void AppendFrame(std::string& out, size_t index, const Frame& frame) {
  out += "<li value=\"" + std::to_string(index) + "\"><code>" + Html(frame.function) + "</code>";
  if (!frame.file.empty()) {
    out += " <span class=loc>" + Html(frame.file) +
           (frame.line > 0 ? ":" + std::to_string(frame.line) : "") + "</span>";
  } else if (frame.module != "??") {
    out += " <span class=loc>" + Html(frame.module) + "</span>";
  }
  if (frame.inlined) out += " <span class=tag>inlined</span>";
  out += "</li>";
}

// Program frames in plain sight, each run of runtime frames folded into one line to open.
void AppendStack(std::string& out, const std::vector<Frame>& frames) {
  if (frames.empty()) {
    out += "<p class=muted>no stack</p>";
    return;
  }
  out += "<ol class=stack>";
  for (size_t i = 0; i < frames.size();) {
    if (!frames[i].runtime) {
      AppendFrame(out, i, frames[i]);
      ++i;
      continue;
    }
    size_t end = i;
    while (end < frames.size() && frames[end].runtime) ++end;
    std::set<std::string> modules;
    for (size_t j = i; j < end; ++j) {
      size_t slash = frames[j].module.rfind('/');
      modules.insert(slash == std::string::npos ? frames[j].module
                                                : frames[j].module.substr(slash + 1));
    }
    std::string names;
    for (const std::string& m : modules) names += (names.empty() ? "" : ", ") + m;
    out += "<li class=fold><details><summary>" + std::to_string(end - i) +
           (end - i == 1 ? " runtime frame" : " runtime frames") + " (" + Html(names) +
           ")</summary><ol>";
    for (size_t j = i; j < end; ++j) AppendFrame(out, j, frames[j]);
    out += "</ol></details></li>";
    i = end;
  }
  out += "</ol>";
}

// The wait-for graph over every listed thread: a node per thread — or per group of more than
// one thread, so ten thousand waiters on one lock are one node and one edge — and an edge per
// "waits for".
std::string WaitGraphDot(const Analysis& analysis, size_t* edges_dropped) {
  std::map<std::pair<int64_t, int64_t>, size_t> group_of_thread;  // (pid, tid) -> group
  for (size_t g = 0; g < analysis.groups.size(); ++g) {
    for (const ThreadRef& ref : analysis.groups[g].members) {
      const ProcessReport& report = analysis.reports[ref.report];
      group_of_thread[{report.pid, report.threads[ref.thread].tid}] = g;
    }
  }
  std::map<std::string, std::string> nodes;  // id -> attributes
  auto node_of = [&](int64_t pid, int64_t tid, const std::string& fallback_label) {
    auto it = group_of_thread.find({pid, tid});
    if (it == group_of_thread.end()) {
      std::string id = "p" + std::to_string(pid) + "t" + std::to_string(tid);
      nodes.try_emplace(id, "label=" + Dot(fallback_label) + ",color=gray");
      return id;
    }
    const ThreadGroup& group = analysis.groups[it->second];
    bool single = group.members.size() == 1;
    std::string id = single ? "p" + std::to_string(pid) + "t" + std::to_string(tid)
                            : "g" + std::to_string(it->second);
    const Frame* top = TopUserFrame(group.representative->stack);
    std::string label =
        (single ? "thread " + std::to_string(tid) + " (pid " + std::to_string(pid) + ")"
                : std::to_string(group.members.size()) + " threads") +
        "\n" + group.state + (top ? " in " + top->function : "");
    std::string verdict = VerdictOf(group);
    std::string colour = verdict == "deadlocked" ? "red"
                         : verdict == "leaked"   ? "orange"
                                                 : "gray50";
    nodes.try_emplace(id, "label=" + Dot(label) + ",color=" + colour);
    return id;
  };
  std::set<std::tuple<std::string, std::string, std::string>> edges;
  *edges_dropped = 0;
  for (const ThreadGroup& group : analysis.groups) {
    for (const ThreadRef& ref : group.members) {
      const ProcessReport& report = analysis.reports[ref.report];
      const Thread& thread = report.threads[ref.thread];
      for (int64_t blocker : thread.blocked_by) {
        std::string label = group.state;
        for (const Deadlock& deadlock : report.deadlocks) {
          for (const WaitEdge& edge : deadlock.edges) {
            if (edge.from == thread.tid && edge.to == blocker) label += " " + edge.object;
          }
        }
        auto edge = std::make_tuple(
            node_of(report.pid, thread.tid, ""),
            node_of(report.pid, blocker, "thread " + std::to_string(blocker)), label);
        if (edges.size() >= kMaxGraphEdges && !edges.count(edge)) {
          ++*edges_dropped;
          continue;
        }
        edges.insert(edge);
      }
    }
  }
  if (edges.empty()) return "";
  std::string dot =
      "digraph threadleak {\n  rankdir=LR;\n  node "
      "[shape=box,fontname=\"sans-serif\",fontsize=10];\n  edge "
      "[fontname=\"sans-serif\",fontsize=9];\n";
  std::set<std::string> used;
  for (const auto& [from, to, label] : edges) used.insert({from, to});
  for (const std::string& id : used) dot += "  " + id + " [" + nodes[id] + "];\n";
  for (const auto& [from, to, label] : edges) {
    dot += "  " + from + " -> " + to + " [label=" + Dot(label) + "];\n";
  }
  return dot + "}\n";
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:75em;padding:0 1em;color:#222}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd}
.summary{font-size:1.1em}.muted{color:#777}code{font:13px ui-monospace,monospace}
table{border-collapse:collapse}td,th{padding:.15em .8em .15em 0;text-align:left;vertical-align:top}
.group{border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;margin:.8em 0;padding:.4em .9em}
.group.leaked{border-left-color:#e8890c}.group.deadlocked{border-left-color:#d22}
.badge{display:inline-block;border-radius:3px;padding:0 .45em;color:#fff;background:#888;font-size:.85em;margin-right:.4em}
.leaked .badge{background:#e8890c}.deadlocked .badge{background:#d22}
.group h3{font-size:1em;margin:.2em 0}.facts{margin:.3em 0}.facts td:first-child{color:#666}
ol.stack,ol.stack ol{margin:.2em 0;padding-left:3em}.loc{color:#555}.tag{font-size:.8em;color:#888}
li.fold{list-style:none;margin-left:-1.2em}summary{cursor:pointer;color:#555}
.graph svg{max-width:100%;height:auto}
)";

}  // namespace

std::string RenderHtml(const Analysis& analysis, const OutputOptions& options) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width\"><title>threadleak report</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<h1>threadleak report</h1>\n<p class=summary>";
  out += std::to_string(analysis.processes) +
         (analysis.processes == 1 ? " process, " : " processes, ");
  out += std::to_string(analysis.leaked_threads) +
         (analysis.leaked_threads == 1 ? " leaked thread" : " leaked threads") +
         Html(Deadlocked(analysis)) + ", ";
  out += std::to_string(analysis.leak_groups) +
         (analysis.leak_groups == 1 ? " distinct leak" : " distinct leaks");
  out += "; " + std::to_string(analysis.threads) + " threads listed in " +
         std::to_string(analysis.groups.size()) + " groups.</p>\n";

  out +=
      "<h2>Reports</h2>\n<table><tr><th>process</th><th>trigger</th><th>threads</th><th>file</th></"
      "tr>";
  for (size_t i = 0; i < analysis.reports.size() && i < kMaxProcessRows; ++i) {
    const ProcessReport& report = analysis.reports[i];
    out += "<tr><td>" + std::to_string(report.pid) + "</td><td>" + Html(report.trigger) +
           "</td><td>" + std::to_string(report.threads.size()) + "</td><td><code>" +
           Html(report.origin) + "</code></td></tr>";
  }
  out += "</table>\n";
  if (analysis.reports.size() > kMaxProcessRows) {
    out += "<p class=muted>… and " + std::to_string(analysis.reports.size() - kMaxProcessRows) +
           " more reports.</p>\n";
  }

  out += "<h2>Wait-for graph</h2>\n";
  size_t dropped = 0;
  std::string dot = WaitGraphDot(analysis, &dropped);
  if (dot.empty()) {
    out += "<p class=muted>No listed thread waits for another thread.</p>\n";
  } else {
    std::string why = "no Graphviz program was given";
    std::optional<std::string> svg;
    if (!options.dot_program.empty()) svg = RenderSvg(options.dot_program, dot, &why);
    if (svg) {
      out += "<div class=graph>" + *svg + "</div>\n";
    } else {
      out += "<p>The graph is not drawn: " + Html(why) +
             ". Install Graphviz to see it here; its DOT source:</p><pre>" + Html(dot) + "</pre>\n";
    }
    if (dropped > 0) {
      out += "<p class=muted>" + std::to_string(dropped) + " more edges are not drawn.</p>\n";
    }
  }

  out += "<h2>Groups</h2>\n";
  if (analysis.groups.empty()) out += "<p>No threads to show: nothing leaked.</p>\n";
  for (const ThreadGroup& group : analysis.groups) {
    const Thread& thread = *group.representative;
    std::string verdict = VerdictOf(group);
    const Frame* top = TopUserFrame(thread.stack);
    size_t n = group.members.size();
    out += "<section class=\"group " + Html(verdict) + "\"><h3><span class=badge>" + Html(verdict) +
           "</span>" + std::to_string(n) + (n == 1 ? " thread" : " threads") + " in state <code>" +
           Html(group.state) + "</code>" +
           (top ? " in <code>" + Html(top->function) + "</code>" : "") + "</h3><table class=facts>";
    std::vector<int64_t> pids(group.pids.begin(), group.pids.end());
    out += "<tr><td>processes</td><td>" + Html(DescribeNumbers(pids, 10)) + "</td></tr>";
    std::vector<int64_t> tids;
    for (const ThreadRef& ref : group.members) {
      tids.push_back(analysis.reports[ref.report].threads[ref.thread].tid);
    }
    out += "<tr><td>threads</td><td>" + Html(DescribeNumbers(tids, 20)) + "</td></tr>";
    if (!group.names.empty()) {
      std::string names;
      for (const std::string& name : group.names) names += (names.empty() ? "" : ", ") + name;
      out += "<tr><td>names</td><td>" + Html(names) + "</td></tr>";
    }
    if (group.blocked_ms_min >= 0) {
      std::string blocked =
          (group.blocked_at_least ? "at least " : "") + FormatMilliseconds(group.blocked_ms_min);
      if (group.blocked_ms_max != group.blocked_ms_min)
        blocked += " – " + FormatMilliseconds(group.blocked_ms_max);
      out += "<tr><td>blocked</td><td>" + Html(blocked) + "</td></tr>";
    }
    if (!group.tests.empty()) {
      std::string tests;
      for (const std::string& test : group.tests) tests += (tests.empty() ? "" : ", ") + test;
      out += "<tr><td>test</td><td>" + Html(tests) + "</td></tr>";
    }
    if (!thread.reason.empty()) {
      out += "<tr><td>" + Html(thread.certainty.empty() ? "why" : thread.certainty) + "</td><td>" +
             Html(thread.reason) + "</td></tr>";
    }
    if (!thread.blocked_by.empty()) {
      std::vector<int64_t> blockers(thread.blocked_by.begin(), thread.blocked_by.end());
      out +=
          "<tr><td>waits for</td><td>thread " + Html(DescribeNumbers(blockers, 10)) + "</td></tr>";
    }
    if (!thread.stack_missing.empty()) {
      out += "<tr><td>no stack</td><td>" + Html(thread.stack_missing) + "</td></tr>";
    }
    out += "</table><details open><summary>Where it waits</summary>";
    AppendStack(out, thread.stack);
    const Frame* creator = TopUserFrame(thread.creation);
    out +=
        "</details><details><summary>Created by " +
        (creator ? "<code>" + Html(creator->function) + "</code>" : std::string("unknown code")) +
        "</summary>";
    AppendStack(out, thread.creation);
    out += "</details></section>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace threadleak::report_tool
