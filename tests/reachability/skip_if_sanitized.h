// The reachability suites' tests that need glibc malloc's heap: under a sanitizer (the sanitized
// build defines REACHABILITY_SANITIZED) the programs run on the sanitizer's allocator, the heap
// walk finds no glibc heap, and the scan proves nothing — Reachability.SanitizedFallsBack checks
// that it says so.
#ifndef THREADLEAK_TESTS_REACHABILITY_SKIP_IF_SANITIZED_H_
#define THREADLEAK_TESTS_REACHABILITY_SKIP_IF_SANITIZED_H_

#ifdef REACHABILITY_SANITIZED
#define SKIP_IF_SANITIZED()                                                     \
  GTEST_SKIP() << "a sanitizer's allocator, not glibc malloc's heap: no proof " \
                  "(SanitizedFallsBack)"
#else
#define SKIP_IF_SANITIZED() static_cast<void>(0)
#endif

#endif  // THREADLEAK_TESTS_REACHABILITY_SKIP_IF_SANITIZED_H_
