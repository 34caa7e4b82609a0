// format=pprof: a report as a pprof thread profile (pprof/thread_profile.h) — one sample per
// thread it lists, labelled with its state, wait object, blocked time, verdict, test and name.
#ifndef THREADLEAK_PRELOAD_REPORT_RENDER_PPROF_REPORT_H_
#define THREADLEAK_PRELOAD_REPORT_RENDER_PPROF_REPORT_H_

#include <string>

#include "preload/report/report_context.h"

namespace threadleak {

// The gzipped profile.proto bytes. Throws like EncodeThreadProfile.
std::string RenderPprofReport(const ReportContext& context);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_RENDER_PPROF_REPORT_H_
