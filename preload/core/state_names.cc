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
