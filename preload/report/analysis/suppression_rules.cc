#include "preload/report/analysis/suppression_rules.h"

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

bool ConditionHolds(uint32_t kind, const std::string& pattern, const SymbolizedThread& thread) {
  switch (kind) {
    case TL_SUPPRESS_THREAD:
      return Glob(pattern, thread.raw->name);
    case TL_SUPPRESS_TOP: {
      const SourceFrame* top = TopUserFrame(thread.stack);
      return top != nullptr && FunctionMatches(pattern, *top);
    }
    case TL_SUPPRESS_ANY:
      return AnyFunction(pattern, thread.stack);
    case TL_SUPPRESS_CREATED_BY:
      return AnyFunction(pattern, thread.creation);
    case TL_SUPPRESS_MODULE:
      return AnyModule(pattern, thread.stack) || AnyModule(pattern, thread.creation);
  }
  return false;
}

bool Matches(const SuppressionRule& rule, const SymbolizedThread& thread) {
  bool first = rule.runtime_thread ? IsRuntimeThread(thread, rule.pattern, rule.spawn_functions)
                                   : ConditionHolds(rule.kind, rule.pattern, thread);
  if (!first) return false;
  for (const SuppressionCondition& condition : rule.also) {
    if (!ConditionHolds(condition.kind, condition.pattern, thread)) return false;
  }
  return true;
}

// Whether the module's base name matches one of the ','-separated globs.
bool ModuleIn(std::string_view module, std::string_view globs) {
  if (module.empty()) return false;
  std::string_view base = ModuleBaseName(module);
  while (!globs.empty()) {
    size_t comma = globs.find(',');
    if (Glob(std::string(globs.substr(0, comma)), base)) return true;
    if (comma == std::string_view::npos) break;
    globs.remove_prefix(comma + 1);
  }
  return false;
}

// Whether the frame's function matches one of the ','-separated globs.
bool FunctionIn(const SourceFrame& frame, std::string_view globs) {
  while (!globs.empty()) {
    size_t comma = globs.find(',');
    if (FunctionMatches(std::string(globs.substr(0, comma)), frame)) return true;
    if (comma == std::string_view::npos) break;
    globs.remove_prefix(comma + 1);
  }
  return false;
}

// The C and C++ runtime every thread passes through (start_thread, clone3, waits, std::thread's
// trampoline): frames there say nothing about whose thread it is.
bool IsCommonRuntime(std::string_view module) {
  return ModuleIn(module, "libc.so*,ld-linux*.so*,libpthread.so*,libstdc++.so*,libgcc_s.so*");
}

SuppressionRule RuntimeRule(const char* modules, BuiltinReason why,
                            const char* spawn_functions = "") {
  SuppressionRule rule{TL_SUPPRESS_MODULE, modules};
  rule.runtime_thread = true;
  rule.spawn_functions = spawn_functions;
  rule.builtin = why;
  return rule;
}

SuppressionRule AnyRule(const char* function, BuiltinReason why) {
  SuppressionRule rule{TL_SUPPRESS_ANY, function};
  rule.builtin = why;
  return rule;
}

// Built-in rules: each names a thread that lives until exit by design, and is written so that a
// thread the program started cannot match it (README, "Runtimes' own threads").
std::vector<SuppressionRule> MakeDefaultSuppressions() {
  using Why = BuiltinReason;
  std::vector<SuppressionRule> rules = {AnyRule("timer_helper_thread", Why::kTimerHelper)};
  // The same thread, seen from outside: it blocks every signal, so its stack is the single pc
  // the kernel reports, inside sigtimedwait.
  rules.push_back(AnyRule("*sigtimedwait*", Why::kTimerHelperSignal));
  rules.back().only_unseen_creator = true;
  rules.push_back(AnyRule("handle_fildes_io", Why::kPosixAio));
  // With debug symbols the start routines have names. Debian's libraries are stripped of them;
  // the runtime rules below take the same threads by module.
  rules.push_back(AnyRule("gomp_thread_start", Why::kOpenMp));
  rules.push_back(AnyRule("blas_thread_server", Why::kOpenBlas));
  rules.push_back(RuntimeRule("libgomp.so*", Why::kOpenMp));
  rules.push_back(RuntimeRule("libopenblas*.so*", Why::kOpenBlas));
  rules.push_back(RuntimeRule("libtbb*.so*", Why::kOneTbb, "tbb::*thread*"));
  rules.push_back(RuntimeRule("libglib-2.0.so*,libgio-2.0.so*", Why::kGlib,
                              "g_thread_new,g_thread_try_new,g_thread_create*"));
  rules.push_back(RuntimeRule("libjemalloc.so*", Why::kJemalloc));
  // Debian's node: libnode and a shared libuv (the inspector thread, the pool).
  rules.push_back(RuntimeRule("libuv.so*,libnode.so*", Why::kLibuvShared,
                              "uv_thread_create,uv_thread_create_ex"));
  // libuv linked into the program (node): the pool's workers, started by the pool's lazy
  // initialisation, which only libuv's threadpool.c does.
  SuppressionRule uv_pool{TL_SUPPRESS_CREATED_BY, "uv_thread_create_ex"};
  uv_pool.also = {{TL_SUPPRESS_CREATED_BY, "init_once"}, {TL_SUPPRESS_ANY, "worker"}};
  uv_pool.builtin = Why::kLibuvLinkedIn;
  rules.push_back(uv_pool);
  SuppressionRule inspector = AnyRule("node::inspector::*StartIoThreadMain*", Why::kNodeInspector);
  inspector.also = {{TL_SUPPRESS_CREATED_BY, "node::inspector::Agent::Start*"}};
  rules.push_back(inspector);
  return rules;
}

}  // namespace

bool IsRuntimeThread(const SymbolizedThread& thread, std::string_view modules,
                     std::string_view spawn_functions) {
  const Frames& creation = thread.creation;
  if (creation.empty() || !ModuleIn(creation[0].module, modules)) return false;
  size_t entry = 0;  // the runtime function the program's code (or anything else) called
  while (entry + 1 < creation.size() && ModuleIn(creation[entry + 1].module, modules)) ++entry;
  if (!spawn_functions.empty() && FunctionIn(creation[entry], spawn_functions)) return false;
  bool in_runtime = false;
  for (const SourceFrame& frame : thread.stack) {
    if (ModuleIn(frame.module, modules)) {
      in_runtime = true;
    } else if (!IsCommonRuntime(frame.module)) {
      return false;  // the program's code (or code nobody can name) runs on this thread
    }
  }
  return in_runtime;
}

const std::vector<SuppressionRule>& DefaultSuppressions() {
  static const std::vector<SuppressionRule> rules = MakeDefaultSuppressions();
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
    if (RuleMatches(rules[i], thread)) return static_cast<int>(i);
  }
  return -1;
}

bool RuleMatches(const SuppressionRule& rule, const SymbolizedThread& thread) {
  if (rule.only_unseen_creator && thread.raw->creator_tid >= 0) return false;
  return Matches(rule, thread);
}

bool RuleDecidable(const SuppressionRule& rule, FramesKnown known) {
  auto decidable = [known](uint32_t kind) {
    if (kind == TL_SUPPRESS_THREAD || kind == TL_SUPPRESS_MODULE) return true;
    return known == FramesKnown::kSymbolTableNames && kind != TL_SUPPRESS_TOP;
  };
  // A runtime rule reads one function name: whether the program called a spawn function.
  const bool first = rule.runtime_thread
                         ? rule.spawn_functions.empty() || known == FramesKnown::kSymbolTableNames
                         : decidable(rule.kind);
  if (!first) return false;
  for (const SuppressionCondition& condition : rule.also) {
    if (!decidable(condition.kind)) return false;
  }
  return true;
}

std::string RuleText(const SuppressionRule& rule) {
  static constexpr const char* kKinds[] = {"thread", "top", "any", "created_by", "module"};
  auto kind = [](uint32_t k) { return std::string(k < 5 ? kKinds[k] : "?"); };
  std::string text = (rule.runtime_thread ? "runtime" : kind(rule.kind)) + ":" + rule.pattern;
  for (const SuppressionCondition& condition : rule.also) {
    text += " + " + kind(condition.kind) + ":" + condition.pattern;
  }
  return text;
}

}  // namespace threadleak
