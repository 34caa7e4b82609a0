// The exit's count-only pass (report_request.h, count_only): whether any thread alive at exit
// counts as a leak once the suppression rules are applied, at a fraction of a report's cost, so
// that a program whose surviving threads are all a runtime's (node's inspector thread,
// jemalloc's) exits without the grace period and without waiting for its frames to be named.
//
// In two steps, each only for the threads the step before left: the rules that need only modules
// (runtime:, module:, thread:), on frames located in their modules; then the rules that read
// function names (any:, created_by:, a runtime's spawn functions), on names taken from the
// modules' ELF symbol tables — one pass over each table for every address asked, no DWARF, no
// sorting of a 180,000-symbol table (node's). A `top:` rule, or a name that only DWARF knows (an
// inlined call), is left to the full report: the pass errs only toward counting a thread, which
// costs the grace period, never a report.
//
// Runs in the report writer. Allocates; not async-signal-safe.
#ifndef THREADLEAK_PRELOAD_REPORT_QUICK_COUNT_H_
#define THREADLEAK_PRELOAD_REPORT_QUICK_COUNT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "preload/report/analysis/suppression_rules.h"
#include "symbolizer/symbolizer.h"

namespace threadleak {

// How many threads of a leak report `snapshot` would count (LeakCount), or more: a thread the
// cheap steps cannot clear counts.
size_t CountLeaksQuickly(const tl_snapshot& snapshot, const std::vector<SuppressionRule>& rules,
                         Symbolizer& symbolizer, bool demangle);

// Names `frames` (located: module and module_offset set) from their modules' symbol tables
// (.symtab, else .dynsym): the function symbol whose range holds the address. Frames without a
// module, or whose module cannot be read, keep an empty name.
void NameFromSymbolTables(std::vector<SourceFrame>* frames, bool demangle);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_QUICK_COUNT_H_
