#include "preload/report/thread_groups.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

namespace threadleak {
namespace {

using StackKey = std::vector<std::string>;

StackKey KeyOf(const std::vector<SourceFrame>& frames) {
  StackKey key;
  key.reserve(frames.size());
  for (const SourceFrame& frame : frames) {
    if (frame.function.empty()) {
      key.push_back(frame.module + "+" + std::to_string(frame.module_offset));
    } else if (IsRuntimeFrame(frame)) {
      key.push_back(frame.function);
    } else {
      key.push_back(frame.function + "@" + frame.file + ":" + std::to_string(frame.line));
    }
  }
  return key;
}

}  // namespace

std::vector<ThreadGroup> GroupThreads(const std::vector<SymbolizedThread>& threads,
                                      const std::vector<int>& extra_key) {
  using Key = std::tuple<uint32_t, int, StackKey, StackKey>;
  std::map<Key, size_t> group_of;
  std::vector<ThreadGroup> groups;
  for (size_t i = 0; i < threads.size(); ++i) {
    Key key{threads[i].raw->state, i < extra_key.size() ? extra_key[i] : 0, KeyOf(threads[i].stack),
            KeyOf(threads[i].creation)};
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
