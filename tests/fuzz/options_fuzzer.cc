// Fuzz target for the option parser (preload/config/options.cc): THREADLEAK_OPTIONS is read by
// every process the shim enters, from whoever set the environment. Whatever the text, parsing must
// not crash, must leave every option within its declared range, and must say so in whole,
// bounded warning lines; and the wrapper's check of a flag's value must refuse what it warns about.
//
// Run it: scripts/run-fuzz.sh [SECONDS] (libFuzzer, clang). The seed corpus is corpus/options.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "preload/config/options.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = fuzz::AsCString(data, size);
  threadleak::Options options;
  fuzz::LineSink sink;
  const int warnings =
      threadleak::ParseOptions(text.c_str(), &options, fuzz::LineSink::Take, &sink);
  FUZZ_CHECK(warnings >= 0);
  FUZZ_CHECK(sink.lines <= static_cast<size_t>(warnings) + 1);

  // Every enum value is one of its table's (so a format added later cannot be forgotten here),
  // every integer within its range, every string terminated.
  FUZZ_CHECK(threadleak::HoldsDeclaredValues(options));

  // Parsing the same text twice over the result changes nothing: later values win, bad ones
  // are ignored.
  threadleak::Options again = options;
  threadleak::ParseOptions(text.c_str(), &again, nullptr, nullptr);
  FUZZ_CHECK(std::memcmp(&again, &options, sizeof options) == 0);

  // The wrapper's check (CheckOptionEntry) never takes what the shim would warn about, and says
  // why when it refuses. (An include= file the shim reads may warn; the check does not read it.)
  const std::string_view entry(text.c_str());
  threadleak::OptionProblem problem;
  if (threadleak::CheckOptionEntry(entry, &problem)) {
    FUZZ_CHECK(problem.size() == 0);
    FUZZ_CHECK(warnings == 0 || entry.find("include=") != std::string_view::npos);
  } else {
    FUZZ_CHECK(problem.size() > 0);
  }
  return 0;
}
