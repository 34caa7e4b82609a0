// The wrapper's flags (preload/config/wrapper_flags.inc), read here straight from the table, with
// values for each from the declaration of the option it sets (preload/config/options.inc): one
// the shim takes and ones it refuses. For the unit and end-to-end tests of the wrapper, so a new
// flag is tested without a test being written for it. Needs threadleak_shim_core (the default of
// an enum option, as written).
#ifndef THREADLEAK_TESTS_COMMON_WRAPPER_FLAG_SAMPLES_H_
#define THREADLEAK_TESTS_COMMON_WRAPPER_FLAG_SAMPLES_H_

#include <string>
#include <string_view>
#include <vector>

#include "preload/config/options.h"
#include "preload/config/signal_names.h"

namespace test_support {

enum class SampleFlagKind { kSwitch, kValue, kSeconds };

struct SampleFlag {
  std::string flag;
  std::string option;
  SampleFlagKind kind;
  std::string value;  // the table's: the value set, the metavar, or the entries also set
};

inline std::vector<SampleFlag> TableFlags() {
  return {
#define THREADLEAK_FLAG_SWITCH(flag, option, value, help) \
  {flag, #option, SampleFlagKind::kSwitch, value},
#define THREADLEAK_FLAG_VALUE(flag, option, metavar, help) \
  {flag, #option, SampleFlagKind::kValue, metavar},
#define THREADLEAK_FLAG_SECONDS(flag, option, also, help) \
  {flag, #option, SampleFlagKind::kSeconds, also},
#include "preload/config/wrapper_flags.inc"
#undef THREADLEAK_FLAG_SWITCH
#undef THREADLEAK_FLAG_VALUE
#undef THREADLEAK_FLAG_SECONDS
  };
}

struct ValueSamples {
  std::string good;              // a value the shim takes
  std::vector<std::string> bad;  // values it refuses
};

inline std::string DefaultTextOf(std::string_view option) {
  struct Search {
    std::string_view option;
    std::string text;
  } search{option, {}};
  threadleak::ForEachOptionDoc(
      [](const threadleak::OptionDoc& doc, void* opaque) {
        auto* search = static_cast<Search*>(opaque);
        if (doc.name == search->option) search->text = doc.default_text;
      },
      &search);
  return search.text;
}

// Values for `option`, by its kind in options.inc.
inline ValueSamples SamplesFor(std::string_view option) {
  const std::string separated = "a:b";
  const std::string too_long(threadleak::kMaxOptionString, 'x');
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  if (option == #name) return {DefaultTextOf(#name), {"no-such-value", ""}};
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description)                      \
  if (option == #name) {                                                                       \
    return {std::to_string(max), {std::to_string(static_cast<long>(max) + 1), "-1", "x", ""}}; \
  }
#define THREADLEAK_OPTION_BOOL(name, default_value, description) \
  if (option == #name) return {(default_value) ? "0" : "1", {"2", "yes", ""}};
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  if (option == #name) return {"/tmp/threadleak-sample", {"", separated, "a b", too_long}};
  // The sampling signal is threadleak's own: the shim turns dumps off with it.
#define THREADLEAK_OPTION_SIGNAL(name, default_value, description)         \
  if (option == #name) {                                                   \
    return {"SIGUSR1", {"SIGFOO", "SIGKILL", "SIGRTMAX-3", "none:x", ""}}; \
  }
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_BOOL
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
  return {};
}

// SECONDS for a kSeconds flag on `option` (an integer of milliseconds): a good one and what it
// is in milliseconds, and bad ones (not a number, or beyond the option's range once in ms).
struct SecondsSamples {
  std::string good = "2.5";
  std::string good_ms = "2500";
  std::vector<std::string> bad = {"x", "1e3", "", ".", "1.2.3", "-1"};
};

inline SecondsSamples SecondsSamplesFor(std::string_view option) {
  SecondsSamples samples;
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  if (option == #name) samples.bad.push_back(std::to_string(static_cast<long>(max) / 1000 + 1));
#define THREADLEAK_OPTION_ENUM(...)
#define THREADLEAK_OPTION_BOOL(...)
#define THREADLEAK_OPTION_STRING(...)
#define THREADLEAK_OPTION_SIGNAL(...)
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_BOOL
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
  return samples;
}

}  // namespace test_support

#endif  // THREADLEAK_TESTS_COMMON_WRAPPER_FLAG_SAMPLES_H_
