// Which leaked threads a report leaves out: the user's suppression rules (parsed by the shim,
// preload/config/suppressions.h) and the built-in ones for threads that live until exit by design
// in common runtimes. Matching works on symbolized frames.
#ifndef THREADLEAK_PRELOAD_REPORT_ANALYSIS_SUPPRESSION_RULES_H_
#define THREADLEAK_PRELOAD_REPORT_ANALYSIS_SUPPRESSION_RULES_H_

#include <string>
#include <string_view>
#include <vector>

#include "preload/report/symbolized_thread.h"

namespace threadleak {

// One more condition of a built-in rule, which must hold too.
struct SuppressionCondition {
  uint32_t kind = TL_SUPPRESS_ANY;  // tl_suppression_kind
  std::string pattern;
};

// Why a built-in rule exists: each names threads that live until exit by design. The writers
// word it (render/phrases.h: RuleSource).
enum class BuiltinReason : uint8_t {
  kNone,               // a user's rule
  kTimerHelper,        // glibc's timer_create(SIGEV_THREAD) helper thread
  kTimerHelperSignal,  // the same, seen in sigtimedwait
  kPosixAio,           // glibc's POSIX AIO helpers
  kOpenMp,             // libgomp's worker pool
  kOpenBlas,           // OpenBLAS's workers
  kOneTbb,             // oneTBB's scheduler
  kGlib,               // GLib's own threads
  kJemalloc,           // jemalloc's background threads
  kLibuvShared,        // libuv's pool (a shared libuv) and node's inspector thread
  kLibuvLinkedIn,      // libuv's pool linked into the program
  kNodeInspector,      // node's inspector I/O thread
};

struct SuppressionRule {
  uint32_t kind = TL_SUPPRESS_THREAD;  // tl_suppression_kind; unused for a runtime rule
  std::string pattern;
  std::string source = {};  // "FILE:LINE" of a user's rule; "" for a built-in one
  // Built-in rules for libc's own threads: only threads the shim did not see being created
  // (libc starts them without going through pthread_create's public symbol).
  bool only_unseen_creator = false;
  // Built-in rules only: further conditions, all of which must hold as well.
  std::vector<SuppressionCondition> also = {};
  // Built-in rules only: a runtime's own thread (IsRuntimeThread), `pattern` being the runtime's
  // modules as globs separated by ','.
  bool runtime_thread = false;
  // For a runtime rule: the runtime's functions that start a thread running what the caller
  // passes (g_thread_new, uv_thread_create), as globs separated by ','.
  std::string spawn_functions = {};
  BuiltinReason builtin = BuiltinReason::kNone;  // a built-in rule: why it exists
};

// Whether `thread` is a thread a runtime made for itself:
// - the call that created it is the runtime's own (the innermost creation frame lies in one of
//   `modules`), and the runtime's function the program called to get there (the last frame of
//   that innermost run of runtime frames) is not one of `spawn_functions`, which run whatever
//   their caller passes (g_thread_new(..., g_main_loop_run, ...) is the program's thread);
// - every frame where it is now lies in those modules or in the C/C++ runtime (libc, the loader,
//   libstdc++, libgcc_s), with at least one in `modules`.
// A thread the program started runs the program's start routine, whose frame is in the program,
// and a thread the program created itself has the program's call (or libstdc++'s std::thread)
// as innermost creation frame: neither matches.
bool IsRuntimeThread(const SymbolizedThread& thread, std::string_view modules,
                     std::string_view spawn_functions = {});

// The built-in rules, each with why it exists (`builtin`; README lists them too).
const std::vector<SuppressionRule>& DefaultSuppressions();

// The user's rules from the config, then the built-in ones if enabled.
std::vector<SuppressionRule> ActiveSuppressions(const tl_report_config& config);

// The index of the first rule that matches `thread`, or -1.
int MatchSuppression(const std::vector<SuppressionRule>& rules, const SymbolizedThread& thread);

// What is known of a thread's frames before full symbolization (quick_count.h): their modules
// only, or also their functions' names from the modules' symbol tables (no inlined calls).
enum class FramesKnown { kModules, kSymbolTableNames };

// Whether `rule` can be decided from what is known. One that cannot is left out there: the thread
// then counts, and the full report, with every frame named, decides (`top:` always waits for it:
// an inlined call, which a symbol table does not name, can be the top user frame).
bool RuleDecidable(const SuppressionRule& rule, FramesKnown known);

// Whether `rule` (its conditions too) matches `thread`, as MatchSuppression decides it.
bool RuleMatches(const SuppressionRule& rule, const SymbolizedThread& thread);

// "thread:gmain" for a rule; "runtime:libgomp.so*" for a runtime rule; conditions joined by " + ".
std::string RuleText(const SuppressionRule& rule);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_SUPPRESSION_RULES_H_
