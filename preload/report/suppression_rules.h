// Which leaked threads a report leaves out: the user's suppression rules (parsed by the shim,
// preload/suppressions.h) and the built-in ones for threads that live until exit by design in
// common runtimes. Matching works on symbolized frames.
#ifndef THREADLEAK_PRELOAD_REPORT_SUPPRESSION_RULES_H_
#define THREADLEAK_PRELOAD_REPORT_SUPPRESSION_RULES_H_

#include <string>
#include <vector>

#include "preload/report/symbolized_thread.h"

namespace threadleak {

struct SuppressionRule {
  uint32_t kind = TL_SUPPRESS_THREAD;  // tl_suppression_kind
  std::string pattern;
  std::string source;  // "FILE:LINE", or "built-in: why" for default rules
  // Built-in rules for libc's own threads: only threads the shim did not see being created
  // (libc starts them without going through pthread_create's public symbol).
  bool only_unseen_creator = false;
};

// The built-in rules, each with the reason it exists (README lists them too).
const std::vector<SuppressionRule>& DefaultSuppressions();

// The user's rules from the config, then the built-in ones if enabled.
std::vector<SuppressionRule> ActiveSuppressions(const tl_report_config& config);

// The index of the first rule that matches `thread`, or -1.
int MatchSuppression(const std::vector<SuppressionRule>& rules, const SymbolizedThread& thread);

// "thread:gmain" for a rule.
std::string RuleText(const SuppressionRule& rule);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_SUPPRESSION_RULES_H_
