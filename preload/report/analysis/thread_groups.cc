#include "preload/report/analysis/thread_groups.h"

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
  // Threads with the same raw stack share one Frames: key each distinct stack once, then
  // compare small ids (10,000 threads over 50 stacks build 50 keys, not 10,000).
  std::map<const std::vector<SourceFrame>*, int> stack_ids;
  std::map<StackKey, int> content_ids;
  auto id_of = [&](const Frames& frames) {
    auto [it, inserted] = stack_ids.try_emplace(&frames.get(), 0);
    if (inserted) {
      it->second = content_ids.try_emplace(KeyOf(frames), static_cast<int>(content_ids.size()))
                       .first->second;
    }
    return it->second;
  };
  using Key = std::tuple<uint32_t, int, int, int>;
  std::map<Key, size_t> group_of;
  std::vector<ThreadGroup> groups;
  for (size_t i = 0; i < threads.size(); ++i) {
    Key key{threads[i].raw->state, i < extra_key.size() ? extra_key[i] : 0, id_of(threads[i].stack),
            id_of(threads[i].creation)};
    auto [it, inserted] = group_of.try_emplace(std::move(key), groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].members.push_back(i);
  }
  return groups;
}

}  // namespace threadleak
