// What the registry holds, asked the way a report asks it (ForEachRecord): for the unit tests of
// the registry and of the lifecycle core above it.
#ifndef THREADLEAK_TESTS_UNIT_REGISTRY_PROBE_H_
#define THREADLEAK_TESTS_UNIT_REGISTRY_PROBE_H_

#include <cstddef>

#include "preload/core/registry.h"

namespace threadleak {

// Whether `wanted` is among the live records a report would see.
inline bool IsLive(const ThreadRecord* wanted) {
  struct Search {
    const ThreadRecord* wanted;
    bool found = false;
  } search{wanted};
  ForEachRecord(
      [](const ThreadRecord& record, void* context) {
        auto* s = static_cast<Search*>(context);
        if (&record == s->wanted) s->found = true;
      },
      &search);
  return search.found;
}

// How many live records a report would see.
inline size_t CountRecords() {
  size_t count = 0;
  ForEachRecord([](const ThreadRecord&, void* context) { ++*static_cast<size_t*>(context); },
                &count);
  return count;
}

}  // namespace threadleak

#endif  // THREADLEAK_TESTS_UNIT_REGISTRY_PROBE_H_
