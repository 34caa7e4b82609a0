#include "preload/report/frame_format.h"

#include <cinttypes>
#include <cstdio>

#include "preload/report/json_string.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {

std::string HexAddress(uintptr_t value) {
  char buffer[24];
  snprintf(buffer, sizeof buffer, "0x%" PRIxPTR, value);
  return buffer;
}

void AppendTextFrames(std::string& out, const std::vector<SourceFrame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const SourceFrame& frame = frames[i];
    out += "    #" + std::to_string(i) + " ";
    if (!frame.function.empty()) {
      out += frame.function;
    } else {
      out += HexAddress(frame.pc);
    }
    if (!frame.file.empty()) {
      out += " at " + frame.file;
      if (frame.line > 0) out += ":" + std::to_string(frame.line);
    } else if (!frame.module.empty()) {
      out += " (" + std::string(ModuleBaseName(frame.module)) + "+" +
             HexAddress(frame.module_offset) + ")";
    }
    out += "\n";
  }
}

std::string JsonFrames(const std::vector<SourceFrame>& frames) {
  std::string out = "[";
  for (size_t i = 0; i < frames.size(); ++i) {
    const SourceFrame& frame = frames[i];
    if (i > 0) out += ",";
    out += "{\"pc\":" + JsonString(HexAddress(frame.pc));
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

}  // namespace threadleak
