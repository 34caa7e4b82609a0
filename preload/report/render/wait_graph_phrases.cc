#include "preload/report/render/wait_graph_phrases.h"

#include <cstdio>
#include <cstring>

#include "preload/report/render/escape.h"
#include "preload/report/render/frame_format.h"

namespace threadleak {

ThreadIndex::ThreadIndex(const tl_snapshot& snapshot) : snapshot_(snapshot) {
  for (uint32_t i = 0; i < snapshot.thread_count; ++i) {
    by_tid_.emplace(snapshot.threads[i].tid, static_cast<int>(i));
  }
}

int ThreadIndex::Find(int32_t tid) const {
  auto it = by_tid_.find(tid);
  return it == by_tid_.end() ? -1 : it->second;
}

const tl_thread* ThreadIndex::Thread(int32_t tid) const {
  int i = Find(tid);
  return i < 0 ? nullptr : &snapshot_.threads[i];
}

std::string QuotedName(const char* name) {
  // The shim NUL-terminates names; the bound guards a hand-built snapshot that does not.
  return ReadableString(std::string_view(name, strnlen(name, TL_NAME_LEN)));
}

std::string ThreadLabel(const ThreadIndex& index, int32_t tid) {
  std::string out = "thread " + std::to_string(tid);
  const tl_thread* thread = index.Thread(tid);
  if (thread != nullptr && thread->name[0] != '\0') out += " " + QuotedName(thread->name);
  return out;
}

const char* ObjectNoun(uint32_t state) {
  switch (state) {
    case TL_STATE_MUTEX:
      return "mutex";
    case TL_STATE_COND:
      return "condition variable";
    case TL_STATE_RWLOCK:
      return "rwlock";
    case TL_STATE_SEM:
      return "semaphore";
    case TL_STATE_BARRIER:
      return "barrier";
    case TL_STATE_JOIN:
      return "pthread";
    case TL_STATE_FUTEX:
      return "futex";
    default:
      return "object";
  }
}

const char* WakerVerbs(uint32_t state) {
  switch (state) {
    case TL_STATE_SEM:
      return "posted or waited on";
    case TL_STATE_FUTEX:
      return "woken or waited on";
    default:
      return "signalled or waited on";
  }
}

std::string ObjectPhrase(uint32_t state, uintptr_t object) {
  return std::string(ObjectNoun(state)) + " " + HexAddress(object);
}

std::string WaitClause(uint32_t state, uintptr_t object, const std::string& target) {
  switch (state) {
    case TL_STATE_JOIN:
      return "joins " + target;
    case TL_STATE_RWLOCK:
      return "waits for " + ObjectPhrase(state, object) + " held for writing by " + target;
    default:
      return "waits for " + ObjectPhrase(state, object) + " held by " + target;
  }
}

}  // namespace threadleak
