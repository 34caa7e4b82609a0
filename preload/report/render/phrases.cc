#include "preload/report/render/phrases.h"

#include <algorithm>
#include <cstring>

#include "preload/report/render/escape.h"
#include "preload/report/render/frame_format.h"

namespace threadleak {

std::string QuotedName(const char* name) {
  // The shim NUL-terminates names; the bound guards a hand-built snapshot that does not.
  return ReadableString(std::string_view(name, strnlen(name, TL_NAME_LEN)));
}

std::string ThreadLabel(const ThreadIndex& index, int32_t tid) {
  std::string out = "thread " + std::to_string(tid);
  const tl_thread* thread = index.Thread(tid);
  if (thread != nullptr && thread->name[0] != '\0') out += " " + QuotedName(thread->name);
  return out;
}

const char* StackMissingPhrase(uint32_t missing) {
  switch (missing) {
    case TL_MISSING_SIGNAL_BLOCKED:
      return "it runs with threadleak's sampling signal blocked, and a running thread is read "
             "only by interrupting it";
    case TL_MISSING_TRACED:
      return "it runs under a debugger, which any signal would stop";
    case TL_MISSING_SIGNAL_TAKEN:
      return "it runs, and the program owns threadleak's sampling signal";
    case TL_MISSING_ALTSTACK:
      return "it runs on an alternate signal stack with no room for a signal frame";
    case TL_MISSING_NO_ANSWER:
      return "it runs, and did not answer the sampling signal in time";
    case TL_MISSING_MOVED:
      return "it left its wait while it was being read";
    case TL_MISSING_UNREADABLE:
      return "threadleak could not read the process's memory (one that is not dumpable, after "
             "a change of user or group or prctl(PR_SET_DUMPABLE, 0), may not be read by another "
             "process of its user)";
    default:
      return nullptr;
  }
}

const char* ObjectNoun(uint32_t state) {
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
      return "pthread";
    case TL_STATE_FUTEX:
      return "futex";
    default:
      return "object";
  }
}

const char* WakerVerbs(uint32_t state) {
  switch (state) {
    case TL_STATE_SEM:
      return "posted or waited on";
    case TL_STATE_FUTEX:
      return "woken or waited on";
    default:
      return "signalled or waited on";
  }
}

std::string ObjectPhrase(uint32_t state, uintptr_t object) {
  return std::string(ObjectNoun(state)) + " " + HexAddress(object);
}

std::string WaitClause(uint32_t state, uintptr_t object, const std::string& target) {
  switch (state) {
    case TL_STATE_JOIN:
      return "joins " + target;
    case TL_STATE_RWLOCK:
      return "waits for " + ObjectPhrase(state, object) + " held for writing by " + target;
    default:
      return "waits for " + ObjectPhrase(state, object) + " held by " + target;
  }
}

std::string DescribeTids(std::vector<int32_t> tids, size_t max_runs) {
  std::sort(tids.begin(), tids.end());
  std::string out;
  size_t runs = 0;
  for (size_t i = 0; i < tids.size();) {
    size_t j = i;
    while (j + 1 < tids.size() && tids[j + 1] == tids[j] + 1) ++j;
    if (runs == max_runs) {
      out += ", … (" + std::to_string(tids.size()) + " in all)";
      break;
    }
    if (runs > 0) out += ", ";
    out += std::to_string(tids[i]);
    if (j > i) out += "-" + std::to_string(tids[j]);
    ++runs;
    i = j + 1;
  }
  return out;
}

namespace {

const char* BuiltinWhy(BuiltinReason why) {
  switch (why) {
    case BuiltinReason::kTimerHelper:
      return "glibc's helper thread for timer_create(SIGEV_THREAD) lives until exit";
    case BuiltinReason::kTimerHelperSignal:
      return "glibc's helper threads (timer_create SIGEV_THREAD) wait in sigtimedwait";
    case BuiltinReason::kPosixAio:
      return "glibc's POSIX AIO helper threads idle before they end";
    case BuiltinReason::kOpenMp:
      return "GNU OpenMP (libgomp) keeps its worker pool until exit";
    case BuiltinReason::kOpenBlas:
      return "OpenBLAS keeps its worker threads until exit";
    case BuiltinReason::kOneTbb:
      return "oneTBB's scheduler keeps its worker threads until exit";
    case BuiltinReason::kGlib:
      return "GLib's own threads (gmain, gdbus, pool-spawner, idle thread-pool workers) live "
             "until exit";
    case BuiltinReason::kJemalloc:
      return "jemalloc's background threads (background_thread:true) live until exit";
    case BuiltinReason::kLibuvShared:
      return "libuv's thread pool is joined only when the library unloads; node's inspector "
             "thread waits for SIGUSR1 until exit";
    case BuiltinReason::kLibuvLinkedIn:
      return "libuv's thread pool (linked in, as in node) is joined only when the program "
             "unloads";
    case BuiltinReason::kNodeInspector:
      return "node's inspector I/O thread waits for SIGUSR1 until exit";
    case BuiltinReason::kNone:
      break;
  }
  return "";
}

}  // namespace

std::string RuleSource(const SuppressionRule& rule) {
  if (rule.builtin == BuiltinReason::kNone) return rule.source;
  return std::string("built-in: ") + BuiltinWhy(rule.builtin);
}

}  // namespace threadleak
