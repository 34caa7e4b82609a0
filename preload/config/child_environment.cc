#include "preload/config/child_environment.h"

#include <stdlib.h>

#include <string_view>

#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"

namespace threadleak {
namespace {

constexpr std::string_view kShimFile = "libthreadleak.so";

bool IsShim(std::string_view entry) {
  size_t slash = entry.rfind('/');
  if (slash != std::string_view::npos) entry.remove_prefix(slash + 1);
  return entry == kShimFile;
}

bool IsSeparator(char c) {
  return c == ':' || c == ' ';  // the loader accepts both
}

}  // namespace

void DropShimFromChildEnvironment() {
  const char* value = getenv("LD_PRELOAD");
  if (value == nullptr) return;
  std::string_view rest(value);
  FixedBuffer<8192> kept;
  if (rest.size() >= 8191) {
    WriteDiagnosticLine(
        "threadleak: warning: LD_PRELOAD is too long to edit; follow_children=0 has no effect");
    return;
  }
  while (!rest.empty()) {
    size_t end = 0;
    while (end < rest.size() && !IsSeparator(rest[end])) ++end;
    std::string_view entry(rest.data(), end);
    rest.remove_prefix(end < rest.size() ? end + 1 : end);
    if (entry.empty() || IsShim(entry)) continue;
    if (kept.size() > 0) kept.AppendChar(':');
    kept.Append(entry);
  }
  if (kept.size() == 0) {
    unsetenv("LD_PRELOAD");
  } else {
    setenv("LD_PRELOAD", kept.c_str(), 1);
  }
}

}  // namespace threadleak
