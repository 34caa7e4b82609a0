#include "preload/snapshot.h"

extern "C" const char* tl_state_name(uint32_t state) {
  static constexpr const char* kNames[TL_STATE_COUNT] = {"mutex",   "cond",    "rwlock",  "sem",
                                                         "barrier", "join",    "futex",   "sleep",
                                                         "io",      "running", "finished"};
  return state < TL_STATE_COUNT ? kNames[state] : "unknown";
}
