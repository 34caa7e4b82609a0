#include "preload/report/suppression_rules.h"

#include <fnmatch.h>

namespace threadleak {
namespace {

bool Glob(const std::string& pattern, std::string_view text) {
  return fnmatch(pattern.c_str(), std::string(text).c_str(), 0) == 0;
}

bool FunctionMatches(const std::string& pattern, const SourceFrame& frame) {
  return !frame.function.empty() &&
         (Glob(pattern, frame.function) || Glob(pattern, QualifiedName(frame.function)));
}

bool AnyFunction(const std::string& pattern, const Frames& frames) {
  for (const SourceFrame& frame : frames) {
    if (FunctionMatches(pattern, frame)) return true;
  }
  return false;
}

bool AnyModule(const std::string& pattern, const Frames& frames) {
  for (const SourceFrame& frame : frames) {
    if (!frame.module.empty() && Glob(pattern, ModuleBaseName(frame.module))) return true;
  }
  return false;
}

bool Matches(const SuppressionRule& rule, const SymbolizedThread& thread) {
  switch (rule.kind) {
    case TL_SUPPRESS_THREAD:
      return Glob(rule.pattern, thread.raw->name);
    case TL_SUPPRESS_TOP: {
      const SourceFrame* top = TopUserFrame(thread.stack);
      return top != nullptr && FunctionMatches(rule.pattern, *top);
    }
    case TL_SUPPRESS_ANY:
      return AnyFunction(rule.pattern, thread.stack);
    case TL_SUPPRESS_CREATED_BY:
      return AnyFunction(rule.pattern, thread.creation);
    case TL_SUPPRESS_MODULE:
      return AnyModule(rule.pattern, thread.stack) || AnyModule(rule.pattern, thread.creation);
  }
  return false;
}

}  // namespace

const std::vector<SuppressionRule>& DefaultSuppressions() {
  static const std::vector<SuppressionRule> rules = {
      {TL_SUPPRESS_ANY, "timer_helper_thread",
       "built-in: glibc's helper thread for timer_create(SIGEV_THREAD) lives until exit"},
      // The same thread, seen from outside: it blocks every signal, so its stack is the single
      // pc the kernel reports, inside sigtimedwait.
      {TL_SUPPRESS_ANY, "*sigtimedwait*",
       "built-in: glibc's helper threads (timer_create SIGEV_THREAD) wait in sigtimedwait", true},
      {TL_SUPPRESS_ANY, "handle_fildes_io",
       "built-in: glibc's POSIX AIO helper threads idle before they end"},
      {TL_SUPPRESS_ANY, "gomp_thread_start",
       "built-in: GNU OpenMP (libgomp) keeps its worker pool until exit"},
      {TL_SUPPRESS_ANY, "blas_thread_server",
       "built-in: OpenBLAS keeps its worker threads until exit"},
      {TL_SUPPRESS_MODULE, "libtbb*.so*",
       "built-in: oneTBB's scheduler keeps its worker threads until exit"},
      {TL_SUPPRESS_THREAD, "gmain", "built-in: GLib's main-context worker thread"},
      {TL_SUPPRESS_THREAD, "gdbus", "built-in: GLib's D-Bus worker thread"},
      {TL_SUPPRESS_THREAD, "pool-spawner", "built-in: GLib's thread-pool spawner"},
  };
  return rules;
}

std::vector<SuppressionRule> ActiveSuppressions(const tl_report_config& config) {
  std::vector<SuppressionRule> rules;
  for (uint32_t i = 0; i < config.suppression_count; ++i) {
    const tl_suppression& rule = config.suppressions[i];
    rules.push_back({rule.kind, rule.pattern, rule.source});
  }
  if (config.default_suppressions) {
    const auto& defaults = DefaultSuppressions();
    rules.insert(rules.end(), defaults.begin(), defaults.end());
  }
  return rules;
}

int MatchSuppression(const std::vector<SuppressionRule>& rules, const SymbolizedThread& thread) {
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].only_unseen_creator && thread.raw->creator_tid >= 0) continue;
    if (Matches(rules[i], thread)) return static_cast<int>(i);
  }
  return -1;
}

std::string RuleText(const SuppressionRule& rule) {
  static constexpr const char* kKinds[] = {"thread", "top", "any", "created_by", "module"};
  return std::string(rule.kind < 5 ? kKinds[rule.kind] : "?") + ":" + rule.pattern;
}

}  // namespace threadleak
