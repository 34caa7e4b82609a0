#include "preload/report/thread_groups.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

namespace threadleak {
namespace {

using StackKey = std::vector<uintptr_t>;

StackKey KeyOf(const tl_stack& stack) {
  return StackKey(stack.pcs, stack.pcs + std::min<uint32_t>(stack.depth, TL_MAX_FRAMES));
}

}  // namespace

std::vector<ThreadGroup> GroupThreads(const tl_snapshot& snapshot,
                                      const std::vector<int>& extra_key) {
  using Key = std::tuple<uint32_t, int, StackKey, StackKey>;
  std::map<Key, size_t> group_of;
  std::vector<ThreadGroup> groups;
  for (size_t i = 0; i < snapshot.thread_count; ++i) {
    const tl_thread& thread = snapshot.threads[i];
    Key key{thread.state, i < extra_key.size() ? extra_key[i] : 0, KeyOf(thread.stack),
            KeyOf(thread.creation)};
    auto [it, inserted] = group_of.try_emplace(std::move(key), groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].members.push_back(i);
  }
  return groups;
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

}  // namespace threadleak
