#include "preload/report/json_report.h"

#include <cinttypes>
#include <cstdio>

#include "preload/report/frame_format.h"
#include "preload/report/json_string.h"
#include "preload/report/syscall_names.h"

#ifndef THREADLEAK_VERSION
#define THREADLEAK_VERSION "unknown"
#endif

namespace threadleak {
namespace {

const char* TriggerName(uint32_t trigger) {
  switch (trigger) {
    case TL_TRIGGER_EXIT:
      return "exit";
    case TL_TRIGGER_SIGNAL:
      return "signal";
    case TL_TRIGGER_API:
      return "api";
    case TL_TRIGGER_TIMEOUT:
      return "timeout";
    case TL_TRIGGER_WATCHDOG:
      return "watchdog";
  }
  return "unknown";
}

std::string Thread(const SymbolizedThread& thread) {
  const tl_thread& raw = *thread.raw;
  bool has_object = raw.object != 0 && raw.state != TL_STATE_SLEEP;
  std::string out = "{\"tid\":" + std::to_string(raw.tid);
  out += ",\"name\":" + JsonString(raw.name);
  out += ",\"state\":" + JsonString(tl_state_name(raw.state));
  out += ",\"object\":" + (has_object ? JsonString(HexAddress(raw.object)) : "null");
  out += ",\"blocked_ms\":" +
         (raw.blocked_ns >= 0 ? std::to_string(raw.blocked_ns / 1'000'000) : std::string("null"));
  out += ",\"syscall\":" +
         (raw.syscall_number >= 0 ? JsonString(SyscallName(raw.syscall_number)) : "null");
  out += ",\"verdict\":\"leaked\"";
  out += ",\"stack\":" + JsonFrames(thread.stack);
  bool creator_known = raw.creator_tid >= 0;
  out += ",\"created_by\":{\"tid\":" + (creator_known ? std::to_string(raw.creator_tid) : "null");
  out += ",\"name\":" + (creator_known ? JsonString(raw.creator_name) : "null");
  out += ",\"stack\":" + JsonFrames(thread.creation) + "}";
  return out + "}";
}

}  // namespace

std::string RenderJsonReport(const tl_snapshot& snapshot,
                             const std::vector<SymbolizedThread>& threads) {
  std::string out = "{\"tool\":\"threadleak\",\"version\":\"" THREADLEAK_VERSION "\"";
  out += ",\"pid\":" + std::to_string(snapshot.pid);
  out += ",\"trigger\":\"" + std::string(TriggerName(snapshot.trigger)) + "\"";
  out += ",\"leaks\":" + std::to_string(threads.size());
  out += ",\"threads\":[";
  for (size_t i = 0; i < threads.size(); ++i) {
    if (i > 0) out += ",";
    out += Thread(threads[i]);
  }
  return out + "]}\n";
}

}  // namespace threadleak
