// The benchmark's workload: one compilation unit of C++ as people write it — std containers,
// algorithms, lambdas, templates — built at -O2, so most of its code is inlined calls.
#ifndef THREADLEAK_TESTS_SYMBOLIZER_BENCH_INLINE_WORKLOAD_H_
#define THREADLEAK_TESTS_SYMBOLIZER_BENCH_INLINE_WORKLOAD_H_

namespace workload {

// Runs every function of the workload once; returns something so nothing is optimized away.
long RunAll(int seed);

}  // namespace workload

#endif  // THREADLEAK_TESTS_SYMBOLIZER_BENCH_INLINE_WORKLOAD_H_
