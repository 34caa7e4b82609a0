#include "preload/report/json_report.h"

#include <cinttypes>
#include <cstdio>

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

std::string HexString(uintptr_t value) {
  char buffer[24];
  snprintf(buffer, sizeof buffer, "\"0x%" PRIxPTR "\"", value);
  return buffer;
}

// Length of the valid UTF-8 sequence at text[i], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  size_t length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (lead >= 0xF5 || length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

std::string Frames(const std::vector<SourceFrame>& frames) {
  std::string out = "[";
  for (size_t i = 0; i < frames.size(); ++i) {
    const SourceFrame& frame = frames[i];
    if (i > 0) out += ",";
    out += "{\"pc\":" + HexString(frame.pc);
    // function and module are always strings ("??" when unknown, as addr2line says); file and
    // line are null when unknown.
    out += ",\"function\":" + JsonString(frame.function.empty() ? "??" : frame.function);
    out += ",\"file\":" + (frame.file.empty() ? "null" : JsonString(frame.file));
    out += ",\"line\":" + (frame.line > 0 ? std::to_string(frame.line) : "null");
    out += ",\"module\":" + JsonString(frame.module.empty() ? "??" : frame.module);
    out += "}";
  }
  return out + "]";
}

std::string Thread(const SymbolizedThread& thread) {
  const tl_thread& raw = *thread.raw;
  bool has_object = raw.object != 0 && raw.state != TL_STATE_SLEEP;
  std::string out = "{\"tid\":" + std::to_string(raw.tid);
  out += ",\"name\":" + JsonString(raw.name);
  out += ",\"state\":" + JsonString(tl_state_name(raw.state));
  out += ",\"object\":" + (has_object ? HexString(raw.object) : "null");
  out += ",\"blocked_ms\":" +
         (raw.blocked_ns >= 0 ? std::to_string(raw.blocked_ns / 1'000'000) : std::string("null"));
  out += ",\"syscall\":" +
         (raw.syscall_number >= 0 ? JsonString(SyscallName(raw.syscall_number)) : "null");
  out += ",\"verdict\":\"leaked\"";
  out += ",\"stack\":" + Frames(thread.stack);
  bool creator_known = raw.creator_tid >= 0;
  out += ",\"created_by\":{\"tid\":" + (creator_known ? std::to_string(raw.creator_tid) : "null");
  out += ",\"name\":" + (creator_known ? JsonString(raw.creator_name) : "null");
  out += ",\"stack\":" + Frames(thread.creation) + "}";
  return out + "}";
}

}  // namespace

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

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
