#include "preload/report/render/pprof_report.h"

#include <ctime>
#include <vector>

#include "preload/report/pprof/thread_profile.h"
#include "preload/report/render/frame_format.h"

namespace threadleak {
namespace {

// The verdict the JSON report gives the same thread (json_report.cc), so a profile can be
// filtered the way the JSON reads: -tagfocus=verdict=leaked.
const char* VerdictOf(const ReportContext& context, size_t index) {
  if (context.notes[index].suppressed_by >= 0) return "ignored";
  if (context.AnalysisOf(context.threads[index]).deadlocked) return "deadlocked";
  switch (context.snapshot->kind) {
    case TL_REPORT_DUMP:
      return "alive";
    case TL_REPORT_WATCHDOG:
      return "blocked";
    default:
      return "leaked";
  }
}

std::vector<pprof::ProfileFrame> ProfileFrames(const std::vector<SourceFrame>& frames) {
  std::vector<pprof::ProfileFrame> out;
  out.reserve(frames.size());
  for (const SourceFrame& frame : frames) {
    pprof::ProfileFrame profile_frame;
    profile_frame.function = frame.function;
    profile_frame.file = frame.file;
    profile_frame.line = frame.line;
    profile_frame.module = frame.module;
    profile_frame.build_id = frame.build_id;
    profile_frame.module_offset = frame.module.empty() ? 0 : frame.module_offset;
    profile_frame.inlined = frame.inlined;
    out.push_back(std::move(profile_frame));
  }
  return out;
}

// The program's own module: where main is, in any stack (creation stacks reach it).
const SourceFrame* MainFrame(const ReportContext& context) {
  for (const SymbolizedThread& thread : context.threads) {
    for (const Frames* frames : {&thread.stack, &thread.creation}) {
      for (const SourceFrame& frame : *frames) {
        if (frame.function == "main" && !frame.module.empty()) return &frame;
      }
    }
  }
  return nullptr;
}

}  // namespace

std::string RenderPprofReport(const ReportContext& context) {
  std::vector<pprof::ProfileThread> threads;
  threads.reserve(context.threads.size());
  for (size_t i = 0; i < context.threads.size(); ++i) {
    const SymbolizedThread& thread = context.threads[i];
    const tl_thread& raw = *thread.raw;
    pprof::ProfileThread profile_thread;
    profile_thread.stack = ProfileFrames(thread.stack);
    auto& labels = profile_thread.labels;
    labels.push_back(pprof::ProfileLabel::Text("state", tl_state_name(raw.state)));
    if (raw.object != 0 && raw.state != TL_STATE_SLEEP) {
      labels.push_back(pprof::ProfileLabel::Text("object", HexAddress(raw.object)));
    }
    if (raw.blocked_ns >= 0) {
      labels.push_back(
          pprof::ProfileLabel::Number("blocked", raw.blocked_ns / 1'000'000, "milliseconds"));
    }
    labels.push_back(pprof::ProfileLabel::Text("verdict", VerdictOf(context, i)));
    if (!context.notes[i].test.empty()) {
      labels.push_back(pprof::ProfileLabel::Text("test", context.notes[i].test));
    }
    labels.push_back(pprof::ProfileLabel::Text("thread_name", raw.name));
    labels.push_back(pprof::ProfileLabel::Number("tid", raw.tid, ""));
    labels.push_back(pprof::ProfileLabel::Number("pid", context.snapshot->pid, ""));
    if (const SourceFrame* creator = TopUserFrame(thread.creation); creator != nullptr) {
      labels.push_back(pprof::ProfileLabel::Text("created_by", creator->function));
    }
    threads.push_back(std::move(profile_thread));
  }
  pprof::ProfileHeader header;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  header.time_nanos = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  if (const SourceFrame* main_frame = MainFrame(context); main_frame != nullptr) {
    header.program_module = main_frame->module;
    header.program_build_id = main_frame->build_id;
  }
  header.comments.push_back("threadleak report of process " +
                            std::to_string(context.snapshot->pid));
  return pprof::EncodeThreadProfile(threads, header);
}

}  // namespace threadleak
