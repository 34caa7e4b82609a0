#include "tools/symbolize/offline_report.h"

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "preload/core/snapshot.h"
#include "preload/report/render/frame_format.h"
#include "preload/report/render/syscall_names.h"
#include "preload/report/render/text_report.h"
#include "preload/report/symbolized_thread.h"

namespace threadleak {
namespace {

// Keeps the keys in the order the report wrote them.
using Json = nlohmann::ordered_json;

// Syscall numbers are small; the table of names lives in the report module.
constexpr int64_t kMaxSyscall = 1024;

std::string StringOr(const Json& object, const char* key, const char* fallback = "") {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

uintptr_t Hex(const Json& object, const char* key) {
  const std::string text = StringOr(object, key);
  if (!text.starts_with("0x")) return 0;
  return static_cast<uintptr_t>(std::strtoull(text.c_str() + 2, nullptr, 16));
}

bool Flag(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

SourceFrame FrameFromJson(const Json& json) {
  SourceFrame frame;
  if (!json.is_object()) return frame;
  frame.pc = Hex(json, "pc");
  frame.function = StringOr(json, "function");
  if (frame.function == "??") frame.function.clear();
  frame.file = StringOr(json, "file");
  if (const auto line = json.find("line"); line != json.end() && line->is_number_integer()) {
    frame.line = line->get<int>();
  }
  frame.module = StringOr(json, "module");
  if (frame.module == "??") frame.module.clear();
  frame.build_id = StringOr(json, "build_id");
  frame.module_offset = Hex(json, "offset");
  frame.inlined = Flag(json, "inlined");
  frame.is_return_address = !Flag(json, "interrupted");
  return frame;
}

// The frames of one JSON stack, named again. An inlined frame belongs to the next frame that is
// not: the pair is replaced together, or kept together when the module cannot be found.
std::vector<SourceFrame> SymbolizeStack(const Json& stack, Symbolizer& symbolizer,
                                        std::string_view strip_prefix) {
  std::vector<SourceFrame> out;
  std::vector<SourceFrame> pending;
  if (!stack.is_array()) return out;
  for (const Json& json : stack) {
    SourceFrame frame = FrameFromJson(json);
    if (frame.inlined) {
      pending.push_back(std::move(frame));
      continue;
    }
    std::vector<SourceFrame> named;
    if (!frame.module.empty() && json.contains("offset")) {
      named = symbolizer.SymbolizeInModule({frame.module, frame.build_id}, frame.pc,
                                           frame.module_offset, frame.is_return_address);
    }
    if (!named.empty() && (!named.back().function.empty() || !named.back().file.empty())) {
      for (SourceFrame& f : named) out.push_back(std::move(f));
    } else {
      for (SourceFrame& f : pending) out.push_back(std::move(f));
      out.push_back(std::move(frame));
    }
    pending.clear();
  }
  for (SourceFrame& f : pending) out.push_back(std::move(f));
  if (!strip_prefix.empty()) {
    for (SourceFrame& frame : out) {
      if (frame.file.size() > strip_prefix.size() && frame.file.starts_with(strip_prefix)) {
        frame.file.erase(0, strip_prefix.size());
      }
    }
  }
  return out;
}

// The pcs of the frames that are not inlined calls: what the process captured, which is what
// the text report groups threads by.
tl_stack RawStack(const std::vector<SourceFrame>& frames) {
  tl_stack stack{};
  stack.kind = TL_STACK_RETURNS;
  for (const SourceFrame& frame : frames) {
    if (frame.inlined) continue;
    if (stack.depth == 0 && !frame.is_return_address) stack.kind = TL_STACK_INTERRUPTED;
    if (stack.depth == TL_MAX_FRAMES) break;
    stack.pcs[stack.depth++] = frame.pc;
  }
  return stack;
}

uint32_t StateNumber(const std::string& name) {
  for (uint32_t state = 0; state < TL_STATE_COUNT; ++state) {
    if (name == tl_state_name(state)) return state;
  }
  return TL_STATE_RUNNING;
}

int64_t SyscallNumber(const Json& thread) {
  const std::string name = StringOr(thread, "syscall");
  if (name.empty()) return -1;
  for (int64_t number = 0; number < kMaxSyscall; ++number) {
    if (SyscallName(number) == name) return number;
  }
  return -1;
}

uint32_t TriggerNumber(const std::string& name) {
  static constexpr std::pair<std::string_view, tl_trigger> kTriggers[] = {
      {"exit", TL_TRIGGER_EXIT},       {"signal", TL_TRIGGER_SIGNAL},     {"api", TL_TRIGGER_API},
      {"timeout", TL_TRIGGER_TIMEOUT}, {"watchdog", TL_TRIGGER_WATCHDOG},
  };
  for (const auto& [text, trigger] : kTriggers) {
    if (name == text) return trigger;
  }
  return TL_TRIGGER_EXIT;
}

void CopyName(const std::string& from, char (&to)[TL_NAME_LEN]) {
  std::strncpy(to, from.c_str(), TL_NAME_LEN - 1);
  to[TL_NAME_LEN - 1] = '\0';
}

int64_t IntOr(const Json& object, const char* key, int64_t fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// What the report listed, told by the verdicts it gave: dumps list threads "alive", the
// watchdog threads "blocked", leak reports threads "leaked" (and "ignored" ones it suppressed).
uint32_t ReportKind(const Json& threads) {
  for (const Json& thread : threads) {
    const std::string verdict = StringOr(thread, "verdict");
    if (verdict == "alive") return TL_REPORT_DUMP;
    if (verdict == "blocked") return TL_REPORT_WATCHDOG;
  }
  return TL_REPORT_LEAKS;
}

// The snapshot a text report is rendered from, rebuilt from what the JSON says. Threads the
// report suppressed ("ignored") are left out, as the text report leaves them out.
std::string RenderText(const Json& report, const std::vector<std::vector<SourceFrame>>& stacks,
                       const std::vector<std::vector<SourceFrame>>& creations) {
  const Json& threads = report["threads"];
  std::vector<tl_thread> raw;
  raw.reserve(threads.size());  // never reallocated: the symbolized threads point into it
  std::vector<SymbolizedThread> symbolized;
  for (size_t i = 0; i < threads.size(); ++i) {
    const Json& json = threads[i];
    if (StringOr(json, "verdict") == "ignored") continue;
    tl_thread& thread = raw.emplace_back();
    thread.tid = static_cast<int32_t>(IntOr(json, "tid", 0));
    CopyName(StringOr(json, "name"), thread.name);
    thread.state = StateNumber(StringOr(json, "state"));
    thread.object = Hex(json, "object");
    const int64_t blocked_ms = IntOr(json, "blocked_ms", -1);
    thread.blocked_ns = blocked_ms >= 0 ? blocked_ms * 1'000'000 : -1;
    thread.syscall_number = SyscallNumber(json);
    if (Flag(json, "main")) thread.flags |= TL_THREAD_MAIN;
    if (Flag(json, "blocked_ms_at_least")) thread.flags |= TL_THREAD_BLOCKED_AT_LEAST;
    const Json& created_by = json.contains("created_by") ? json["created_by"] : Json();
    thread.creator_tid = static_cast<int32_t>(IntOr(created_by, "tid", -1));
    CopyName(StringOr(created_by, "name"), thread.creator_name);
    thread.stack = RawStack(stacks[i]);
    thread.creation = RawStack(creations[i]);
    symbolized.push_back({&thread, Frames(stacks[i]), Frames(creations[i])});
  }
  tl_snapshot snapshot{};
  snapshot.pid = static_cast<int32_t>(IntOr(report, "pid", 0));
  snapshot.trigger = TriggerNumber(StringOr(report, "trigger"));
  snapshot.kind = ReportKind(threads);
  snapshot.thread_count = static_cast<uint32_t>(symbolized.size());
  snapshot.threads = raw.data();
  return RenderTextReport(snapshot, symbolized);
}

// Thread groups name their top user frame, which raw frames did not have.
void UpdateGroups(Json& report, const std::vector<std::vector<SourceFrame>>& stacks) {
  if (!report.contains("groups") || !report["groups"].is_array()) return;
  const Json& threads = report["threads"];
  for (Json& group : report["groups"]) {
    if (!group.is_object() || !group.contains("tids") || !group["tids"].is_array() ||
        group["tids"].empty()) {
      continue;
    }
    const Json& first = group["tids"][0];
    for (size_t i = 0; i < threads.size(); ++i) {
      if (threads[i].is_object() && threads[i].contains("tid") && threads[i]["tid"] == first) {
        const SourceFrame* top = TopUserFrame(stacks[i]);
        group["top"] = top != nullptr ? Json(top->function) : Json(nullptr);
        break;
      }
    }
  }
}

}  // namespace

std::string SymbolizeReportLine(const std::string& line, Symbolizer& symbolizer,
                                const OfflineReportOptions& options) {
  Json report = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!report.is_object() || StringOr(report, "tool") != "threadleak" ||
      !report.contains("threads") || !report["threads"].is_array()) {
    return line + "\n";
  }
  Json& threads = report["threads"];
  std::vector<std::vector<SourceFrame>> stacks;
  std::vector<std::vector<SourceFrame>> creations;
  for (Json& thread : threads) {
    if (!thread.is_object()) thread = Json::object();
    stacks.push_back(SymbolizeStack(thread["stack"], symbolizer, options.strip_path_prefix));
    Json& created_by = thread["created_by"];
    if (!created_by.is_object()) created_by = Json::object();
    creations.push_back(SymbolizeStack(created_by["stack"], symbolizer, options.strip_path_prefix));
  }
  if (options.text) return RenderText(report, stacks, creations);
  for (size_t i = 0; i < threads.size(); ++i) {
    threads[i]["stack"] = Json::parse(JsonFrames(stacks[i]));
    threads[i]["created_by"]["stack"] = Json::parse(JsonFrames(creations[i]));
  }
  UpdateGroups(report, stacks);
  return report.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace threadleak
