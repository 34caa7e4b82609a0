// The report configuration, built from the process's parsed options in one place, by name. The
// shim hands the writer its whole Options (report_request.h), so no option is left behind on
// the way; here every field of tl_report_config is set by name — a field added to it and not set
// here fails to compile — and tests/unit/report_config_test.cc fails for an option of
// options.inc that neither changes this configuration nor is named there as the shim's alone.
//
// Header-only, no allocation: the writer calls it, and so do the unit tests.
#ifndef THREADLEAK_PRELOAD_HANDOFF_REPORT_CONFIG_H_
#define THREADLEAK_PRELOAD_HANDOFF_REPORT_CONFIG_H_

#include <stdint.h>

#include "preload/config/options.h"
#include "preload/core/snapshot.h"

namespace threadleak {

// What the configuration takes from elsewhere than the options.
struct ReportOutput {
  int fd;                              // where the report goes
  const tl_suppression* suppressions;  // the user's rules, read by the shim from `suppressions`
  uint32_t suppression_count;
};

// `options` must outlive the configuration: strip_path_prefix points into it.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wmissing-field-initializers"
inline tl_report_config ReportConfig(const Options& options, const ReportOutput& output) {
  return {
      .format = options.format,
      .fd = output.fd,
      .open_destination = nullptr,  // the writer's destination is always open: output.fd
      .symbolize = options.symbolize,
      .demangle = options.demangle,
      .debuginfod = options.debuginfod,
      .strip_path_prefix = options.strip_path_prefix,
      .suppressions = output.suppressions,
      .suppression_count = output.suppression_count,
      .default_suppressions = options.default_suppressions,
      .print_suppressions = options.print_suppressions,
      .copy_fd = -1,  // the shim delivers the report, to a dump's requester too
      .leak_scan = options.leak_scan,
      .leak_scan_max_mb = static_cast<uint32_t>(options.leak_scan_max_mb),
  };
}
#pragma GCC diagnostic pop

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_HANDOFF_REPORT_CONFIG_H_
