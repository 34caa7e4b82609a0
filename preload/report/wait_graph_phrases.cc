#include "preload/report/wait_graph_phrases.h"

#include <cstdio>
#include <cstring>

#include "preload/report/frame_format.h"
#include "preload/report/json_string.h"

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
  std::string out = "\"";
  // The shim NUL-terminates names; the bound guards a hand-built snapshot that does not.
  const std::string_view bytes(name, strnlen(name, TL_NAME_LEN));
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char byte = static_cast<unsigned char>(name[i]);
    if (byte >= 0x80 && Utf8SequenceLength(bytes, i) > 0) {
      // A character in UTF-8 ("Wörker"), kept as it is.
      const size_t length = Utf8SequenceLength(bytes, i);
      out.append(bytes.substr(i, length));
      i += length - 1;
    } else if (byte == '"' || byte == '\\') {
      out += '\\';
      out += name[i];
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += name[i];
    }
  }
  return out + "\"";
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
