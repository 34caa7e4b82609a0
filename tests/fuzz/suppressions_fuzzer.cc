// Fuzz target for the suppression file parser (preload/config/suppressions.cc): a file the user
// names in an option, read at start-up in every process. Whatever the bytes (NULs included),
// parsing must not crash, must keep the table within its fixed size with terminated strings, and
// must report each bad line as one bounded error line.
//
// Run it: scripts/run-fuzz.sh [SECONDS] (libFuzzer, clang). The seed corpus is
// corpus/suppressions.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "preload/config/suppressions.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  threadleak::SuppressionTable table;
  fuzz::LineSink sink;
  const int errors =
      threadleak::ParseSuppressions(text, "fuzz.supp", &table, fuzz::LineSink::Take, &sink);
  FUZZ_CHECK(errors >= 0);
  FUZZ_CHECK(sink.lines <= static_cast<size_t>(errors) + 1);
  FUZZ_CHECK(table.count <= threadleak::kMaxSuppressions);
  for (size_t i = 0; i < table.count; ++i) {
    const tl_suppression& rule = table.rules[i];
    FUZZ_CHECK(rule.kind <= TL_SUPPRESS_MODULE);
    FUZZ_CHECK(fuzz::Terminated(rule.pattern));
    FUZZ_CHECK(fuzz::Terminated(rule.source));
    FUZZ_CHECK(rule.pattern[0] != '\0');
  }
  return 0;
}
