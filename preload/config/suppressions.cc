#include "preload/config/suppressions.h"

#include <string.h>

#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"
#include "preload/io/small_file.h"

namespace threadleak {
namespace {

struct Kind {
  std::string_view name;
  uint32_t kind;
};

constexpr Kind kKinds[] = {{"thread", TL_SUPPRESS_THREAD},
                           {"top", TL_SUPPRESS_TOP},
                           {"any", TL_SUPPRESS_ANY},
                           {"created_by", TL_SUPPRESS_CREATED_BY},
                           {"module", TL_SUPPRESS_MODULE}};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

constinit SuppressionTable g_suppressions;

void WarnToStderr(const char* line, void* context) {
  static_cast<WarningCap*>(context)->Write(line);
}

}  // namespace

int ParseSuppressions(std::string_view text, const char* file, SuppressionTable* table,
                      WarningSink warn, void* context) {
  int errors = 0;
  size_t line_number = 0;
  auto error = [&](std::string_view what, std::string_view line) {
    FixedBuffer<512> message;
    message.Append("threadleak: error: ").Append(file).AppendChar(':');
    message.AppendInt(static_cast<int64_t>(line_number)).Append(": ").Append(what);
    message.Append(" in '").Append(line).Append("' (line ignored)");
    ++errors;
    if (warn != nullptr) warn(message.c_str(), context);
  };
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view raw(text.data(), end == std::string_view::npos ? text.size() : end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error("expected KIND:PATTERN", line);
      continue;
    }
    std::string_view kind_name = Trim(std::string_view(line.data(), colon));
    std::string_view pattern =
        Trim(std::string_view(line.data() + colon + 1, line.size() - colon - 1));
    const Kind* kind = nullptr;
    for (const Kind& candidate : kKinds) {
      if (candidate.name == kind_name) kind = &candidate;
    }
    if (kind == nullptr) {
      error("unknown kind (expected thread, top, any, created_by or module)", line);
      continue;
    }
    if (pattern.empty() || pattern.size() >= TL_SUPPRESSION_PATTERN_LEN) {
      error(pattern.empty() ? "empty pattern" : "pattern too long", line);
      continue;
    }
    if (pattern.find('\0') != std::string_view::npos) {  // a binary file, or a corrupt one
      error("pattern contains a NUL byte", line);
      continue;
    }
    if (table->count == kMaxSuppressions) {
      error("too many rules (the limit is 256)", line);
      continue;
    }
    tl_suppression& rule = table->rules[table->count++];
    rule = tl_suppression{};
    rule.kind = kind->kind;
    pattern.copy(rule.pattern, pattern.size());
    FixedBuffer<TL_SUPPRESSION_SOURCE_LEN> source;
    source.Append(file).AppendChar(':').AppendInt(static_cast<int64_t>(line_number));
    memcpy(rule.source, source.c_str(), source.size() + 1);
  }
  return errors;
}

void LoadGlobalSuppressions() {
  const char* path = GlobalOptions().suppressions;
  if (path[0] == '\0') return;
  SmallFile file;
  if (!file.Read(path, kMaxSuppressionFileBytes, "larger than 1 MiB")) {
    FixedBuffer<kMaxOptionString + 128> line;
    line.Append("threadleak: error: cannot read suppressions file '").Append(path);
    line.Append("': ").Append(file.error());
    WriteDiagnosticLine(line.view());
    return;
  }
  // A binary file, or one written for another tool, has a bad line after another: the first
  // few say what is wrong, one more line how many were left out.
  WarningCap errors;
  ParseSuppressions(file.text(), path, &g_suppressions, WarnToStderr, &errors);
  errors.Finish("error", path, "lines ignored");
}

const SuppressionTable& GlobalSuppressions() {
  return g_suppressions;
}

}  // namespace threadleak
