// The report configuration comes from the parsed options in one place (handoff/report_config.h):
// every option of options.inc either reaches it or is named here as the shim's alone, so an
// option the report needs cannot be left out silently.
#include "preload/handoff/report_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "preload/config/options.h"

namespace threadleak {
namespace {

// Options the report never sees: the shim acts on them itself. (suppressions: the shim reads the
// file and hands the writer its rules, which ReportOutput carries.)
constexpr std::string_view kShimsAlone[] = {
    "log_path",
    "exitcode",
    "staging",
    "linger_ms",
    "dump_signal",
    "watchdog_ms",
    "timeout_ms",
    "dump_on_fatal",
    "suppressions",
    "ignore_existing",
    "follow_children",
    "include",
    "watchdog_abandoned",
    "help",
};

bool ShimsAlone(std::string_view option) {
  return std::find(std::begin(kShimsAlone), std::end(kShimsAlone), option) != std::end(kShimsAlone);
}

// Every field of the configuration, as text: a field the comparison left out would make an
// option that sets it look unused, and the test below fail.
std::string Describe(const tl_report_config& config) {
  std::ostringstream out;
  out << "format=" << config.format << " fd=" << config.fd
      << " open_destination=" << reinterpret_cast<void*>(config.open_destination)
      << " symbolize=" << config.symbolize << " demangle=" << config.demangle
      << " debuginfod=" << config.debuginfod << " strip_path_prefix='" << config.strip_path_prefix
      << "' suppressions=" << config.suppressions
      << " suppression_count=" << config.suppression_count
      << " default_suppressions=" << config.default_suppressions
      << " print_suppressions=" << config.print_suppressions << " copy_fd=" << config.copy_fd
      << " leak_scan=" << config.leak_scan << " leak_scan_max_mb=" << config.leak_scan_max_mb;
  return out.str();
}

const tl_suppression kRules[2] = {};
const ReportOutput kOutput = {.fd = 4, .suppressions = kRules, .suppression_count = 2};

struct Changed {
  std::string_view name;
  Options options;
};

// Each option in turn set to a value other than its default (one it can be given).
std::vector<Changed> EachOptionChanged() {
  std::vector<Changed> changed;
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  changed.push_back({#name, {}});                                        \
  changed.back().options.name = (default_value) ^ 1u;
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  changed.push_back({#name, {}});                                         \
  changed.back().options.name = (default_value) != (max) ? (max) : (min);
#define THREADLEAK_OPTION_BOOL(name, default_value, description) \
  changed.push_back({#name, {}});                                \
  changed.back().options.name = !(default_value);
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  changed.push_back({#name, {}});                                  \
  strcpy(changed.back().options.name, "/changed");
#define THREADLEAK_OPTION_SIGNAL THREADLEAK_OPTION_STRING
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_BOOL
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
  return changed;
}

TEST(ReportConfig, EveryOptionReachesTheReportOrIsTheShimsAlone) {
  const Options defaults;
  const std::string by_default = Describe(ReportConfig(defaults, kOutput));
  for (const Changed& changed : EachOptionChanged()) {
    SCOPED_TRACE(changed.name);
    ASSERT_TRUE(HoldsDeclaredValues(changed.options));
    const std::string described = Describe(ReportConfig(changed.options, kOutput));
    if (ShimsAlone(changed.name)) {
      EXPECT_EQ(described, by_default) << changed.name << " is named as the shim's alone";
    } else {
      EXPECT_NE(described, by_default)
          << "option " << changed.name << " does not reach the report configuration: set it "
          << "in ReportConfig (handoff/report_config.h), or name it in kShimsAlone";
    }
  }
}

TEST(ReportConfig, NamesOnlyOptionsThatExist) {
  const std::vector<Changed> options = EachOptionChanged();
  for (std::string_view name : kShimsAlone) {
    EXPECT_TRUE(std::any_of(options.begin(), options.end(), [&](const Changed& changed) {
      return changed.name == name;
    })) << name;
  }
}

TEST(ReportConfig, CarriesTheValuesByName) {
  Options options;
  options.format = TL_FORMAT_JSON;
  options.symbolize = false;
  options.demangle = false;
  options.debuginfod = true;
  strcpy(options.strip_path_prefix, "/src/");
  options.default_suppressions = false;
  options.print_suppressions = true;
  options.leak_scan = true;
  options.leak_scan_max_mb = 12;
  const tl_report_config config = ReportConfig(options, kOutput);
  EXPECT_EQ(config.format, TL_FORMAT_JSON);
  EXPECT_EQ(config.fd, 4);
  EXPECT_EQ(config.open_destination, nullptr);
  EXPECT_EQ(config.symbolize, 0u);
  EXPECT_EQ(config.demangle, 0u);
  EXPECT_EQ(config.debuginfod, 1u);
  EXPECT_EQ(config.strip_path_prefix, options.strip_path_prefix);
  EXPECT_EQ(config.suppressions, kRules);
  EXPECT_EQ(config.suppression_count, 2u);
  EXPECT_EQ(config.default_suppressions, 0u);
  EXPECT_EQ(config.print_suppressions, 1u);
  EXPECT_EQ(config.copy_fd, -1);
  EXPECT_EQ(config.leak_scan, 1u);
  EXPECT_EQ(config.leak_scan_max_mb, 12u);
}

}  // namespace
}  // namespace threadleak
