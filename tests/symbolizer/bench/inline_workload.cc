// 96 instances of a function template whose body is mostly inlined library code: sorting,
// searching, hashing, string building. The symbolizer benchmark reads addresses in here.
#include "tests/symbolizer/bench/inline_workload.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace workload {
namespace {

struct State {
  std::vector<long> numbers;
  std::map<long, std::string> names;
  std::unordered_map<std::string, long> counts;
};

template <int N>
__attribute__((noinline)) long Step(State& state) {
  std::vector<long>& v = state.numbers;
  std::sort(v.begin(), v.end(), [](long a, long b) { return (a ^ N) < (b ^ N); });
  long sum = std::accumulate(v.begin(), v.end(), 0L, [](long acc, long x) { return acc + x * N; });
  for (auto& [key, name] : state.names) {
    name += std::to_string(key + N);
    sum += static_cast<long>(name.size());
  }
  for (const auto& [name, count] : state.counts) sum += static_cast<long>(name.size()) + count;
  const auto found = std::find_if(v.begin(), v.end(), [](long x) { return x % (N + 2) == 1; });
  if (found != v.end()) sum += *found;
  std::string key = "step" + std::to_string(N);
  state.counts[key] += sum;
  state.names.emplace(sum % 1000, std::move(key));
  v.push_back(sum % 7919);
  return sum;
}

template <size_t... I>
long RunSteps(State& state, std::index_sequence<I...>) {
  return (Step<static_cast<int>(I)>(state) + ...);
}

}  // namespace

long RunAll(int seed) {
  State state;
  for (int i = 0; i < 16; ++i) state.numbers.push_back((seed * 31 + i * 17) % 101);
  return RunSteps(state, std::make_index_sequence<96>());
}

}  // namespace workload
