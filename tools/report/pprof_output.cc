#include <ctime>

#include "preload/report/pprof/thread_profile.h"
#include "tools/report/outputs.h"

namespace threadleak::report_tool {
namespace {

std::vector<pprof::ProfileFrame> ProfileFrames(const std::vector<Frame>& frames) {
  std::vector<pprof::ProfileFrame> out;
  out.reserve(frames.size());
  for (const Frame& frame : frames) {
    pprof::ProfileFrame profile_frame;
    profile_frame.function = frame.function;
    profile_frame.file = frame.file;
    profile_frame.line = frame.line;
    profile_frame.module = frame.module == "??" ? "" : frame.module;
    profile_frame.build_id = frame.build_id;
    profile_frame.module_offset = frame.offset;
    profile_frame.inlined = frame.inlined;
    out.push_back(std::move(profile_frame));
  }
  return out;
}

}  // namespace

// The labels are the ones the report writer's format=pprof writes
// (preload/report/render/pprof_report.cc), so profiles made either way filter alike.
std::string RenderPprof(const Analysis& analysis) {
  std::vector<pprof::ProfileThread> threads;
  pprof::ProfileHeader header;
  for (const ThreadGroup& group : analysis.groups) {
    for (const ThreadRef& ref : group.members) {
      const ProcessReport& report = analysis.reports[ref.report];
      const Thread& thread = report.threads[ref.thread];
      pprof::ProfileThread profile_thread;
      profile_thread.stack = ProfileFrames(thread.stack);
      auto& labels = profile_thread.labels;
      labels.push_back(pprof::ProfileLabel::Text("state", thread.state));
      if (!thread.object.empty())
        labels.push_back(pprof::ProfileLabel::Text("object", thread.object));
      if (thread.blocked_ms >= 0) {
        labels.push_back(pprof::ProfileLabel::Number("blocked", thread.blocked_ms, "milliseconds"));
      }
      labels.push_back(pprof::ProfileLabel::Text("verdict", thread.verdict));
      if (!thread.test.empty()) labels.push_back(pprof::ProfileLabel::Text("test", thread.test));
      labels.push_back(pprof::ProfileLabel::Text("thread_name", thread.name));
      labels.push_back(pprof::ProfileLabel::Number("tid", thread.tid, ""));
      labels.push_back(pprof::ProfileLabel::Number("pid", report.pid, ""));
      if (const Frame* creator = TopUserFrame(thread.creation); creator != nullptr) {
        labels.push_back(pprof::ProfileLabel::Text("created_by", creator->function));
      }
      if (header.program_module.empty()) {
        for (const Frame& frame : thread.creation) {
          if (frame.function == "main" && frame.module != "??") {
            header.program_module = frame.module;
            header.program_build_id = frame.build_id;
          }
        }
      }
      threads.push_back(std::move(profile_thread));
    }
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  header.time_nanos = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  header.comments.push_back("threadleak report: " + std::to_string(analysis.processes) +
                            " processes, " + std::to_string(analysis.threads) + " threads");
  return pprof::EncodeThreadProfile(threads, header);
}

}  // namespace threadleak::report_tool
