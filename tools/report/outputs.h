// The formats of `threadleak report`, each a function of the grouped reports. Each returns the
// whole output; none writes anywhere or ends the process.
#ifndef THREADLEAK_TOOLS_REPORT_OUTPUTS_H_
#define THREADLEAK_TOOLS_REPORT_OUTPUTS_H_

#include <string>

#include "tools/report/leak_groups.h"

namespace threadleak::report_tool {

struct OutputOptions {
  // Absolute directory of the project's sources, ending in '/': file paths under it are written
  // relative to it (SARIF, GitHub annotations), and frames under it are the program's own.
  std::string source_root;
  // Graphviz's dot, for the HTML page's wait-for graph; empty: draw none.
  std::string dot_program = "dot";
};

// " (2 deadlocked)" after a count of leaked threads, or "" when none is.
std::string Deadlocked(const Analysis& analysis);

// goleak-style, grouped across processes: "threadleak: 3 processes, 41 threads, 2 distinct
// leaks", one block per group, a SUMMARY line.
std::string RenderText(const Analysis& analysis);

// JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one test case per distinct
// leak, failing, with the group's text in the body; one passing case when nothing leaked.
std::string RenderJunit(const Analysis& analysis);

// SARIF 2.1.0 for GitHub code scanning: a result per distinct leak at its creation site, the
// stack where it waits as a code flow, a fingerprint stable across runs.
std::string RenderSarif(const Analysis& analysis, const OutputOptions& options);

// GitHub Actions workflow commands: one "::error file=…,line=…,title=…::…" line per leak group.
std::string RenderGithub(const Analysis& analysis, const OutputOptions& options);

// One self-contained HTML page (no network): the summary, the groups with collapsible stacks,
// and the wait-for graph as inline SVG when Graphviz is there.
std::string RenderHtml(const Analysis& analysis, const OutputOptions& options);

// A gzipped pprof profile: one sample per thread, with labels (preload/report/pprof).
std::string RenderPprof(const Analysis& analysis);

}  // namespace threadleak::report_tool

#endif  // THREADLEAK_TOOLS_REPORT_OUTPUTS_H_
