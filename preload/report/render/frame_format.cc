#include "preload/report/render/frame_format.h"

#include <string.h>

#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "preload/report/render/escape.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {
namespace {

void AppendFrame(std::string& out, size_t index, const SourceFrame& frame) {
  out += "    #" + std::to_string(index) + " ";
  out += frame.function.empty() ? HexAddress(frame.pc) : frame.function;
  if (!frame.file.empty()) {
    out += " at " + frame.file;
    if (frame.line > 0) out += ":" + std::to_string(frame.line);
  } else if (!frame.module.empty()) {
    out += " (";
    out += ModuleBaseName(frame.module);
    out += "+" + HexAddress(frame.module_offset) + ")";
    if (frame.function.empty() && !frame.build_id.empty()) {
      out += " (BuildId: " + frame.build_id + ")";
    }
  }
  if (frame.inlined) out += " (inlined)";
  out += "\n";
}

// How many frames at the top of the stack are runtime frames with the user's code below them.
size_t LeadingRuntimeFrames(const std::vector<SourceFrame>& frames) {
  size_t n = 0;
  while (n < frames.size() && !frames[n].function.empty() && IsRuntimeFrame(frames[n])) ++n;
  const SourceFrame* user = TopUserFrame(frames);
  // Nothing to land on below them: show them all.
  if (user == nullptr || user != &frames[n]) return 0;
  return n;
}

void AppendCollapsed(std::string& out, const std::vector<SourceFrame>& frames, size_t count) {
  std::vector<std::string_view> modules;
  for (size_t i = 0; i < count; ++i) {
    std::string_view module = ModuleBaseName(frames[i].module);
    if (module.empty()) continue;
    bool seen = false;
    for (std::string_view m : modules) seen = seen || m == module;
    if (!seen) modules.push_back(module);
  }
  out += "    ... " + std::to_string(count) + (count == 1 ? " runtime frame" : " runtime frames");
  if (!modules.empty()) {
    out += " (";
    for (size_t i = 0; i < modules.size(); ++i) {
      if (i > 0) out += ", ";
      out += modules[i];
    }
    out += ")";
  }
  out += "\n";
}

}  // namespace

std::string FatalSignalName(int signal) {
  const char* name = sigabbrev_np(signal);
  return name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(signal);
}

std::string HexAddress(uintptr_t value) {
  char buffer[24];
  snprintf(buffer, sizeof buffer, "0x%" PRIxPTR, value);
  return buffer;
}

void AppendTextFrames(std::string& out, const std::vector<SourceFrame>& frames) {
  const size_t collapsed = LeadingRuntimeFrames(frames);
  if (collapsed > 0) AppendCollapsed(out, frames, collapsed);
  for (size_t i = collapsed; i < frames.size(); ++i) AppendFrame(out, i, frames[i]);
}

void AppendTextFrames(std::string& out, const Frames& frames) {
  out += frames.Text([](const std::vector<SourceFrame>& f) {
    std::string text;
    AppendTextFrames(text, f);
    return text;
  });
}

const std::string& JsonFrames(const Frames& frames) {
  return frames.Json([](const std::vector<SourceFrame>& f) { return JsonFrames(f); });
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
    if (!frame.module.empty()) {
      if (!frame.build_id.empty()) out += ",\"build_id\":" + JsonString(frame.build_id);
      out += ",\"offset\":\"" + HexAddress(frame.module_offset) + "\"";
    }
    if (frame.inlined) out += ",\"inlined\":true";
    if (!frame.is_return_address) out += ",\"interrupted\":true";
    if (IsRuntimeFrame(frame)) out += ",\"runtime\":true";
    out += "}";
  }
  return out + "]";
}

}  // namespace threadleak
