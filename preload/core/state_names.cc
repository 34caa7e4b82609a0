#include "preload/core/snapshot.h"

extern "C" const char* tl_state_name(uint32_t state) {
  static constexpr const char* kNames[TL_STATE_COUNT] = {"mutex",   "cond",    "rwlock",  "sem",
                                                         "barrier", "join",    "futex",   "sleep",
                                                         "io",      "running", "finished"};
  return state < TL_STATE_COUNT ? kNames[state] : "unknown";
}

extern "C" int tl_state_waits_for_others(uint32_t state) {
  switch (state) {
    case TL_STATE_MUTEX:
    case TL_STATE_COND:
    case TL_STATE_RWLOCK:
    case TL_STATE_SEM:
    case TL_STATE_BARRIER:
    case TL_STATE_JOIN:
    case TL_STATE_FUTEX:
      return 1;
    default:
      return 0;
  }
}

extern "C" const char* tl_stack_missing_phrase(uint32_t missing) {
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
    default:
      return nullptr;
  }
}
