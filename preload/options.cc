#include "preload/options.h"

#include <stdlib.h>

#include <iterator>
#include <string_view>

#include "preload/diagnostics.h"
#include "preload/fixed_buffer.h"

namespace threadleak {
namespace {

struct EnumValue {
  std::string_view name;
  unsigned value;
};

constexpr EnumValue kFormatValues[] = {{"text", TL_FORMAT_TEXT}, {"json", TL_FORMAT_JSON}};

struct Parser {
  Options* options;
  WarningSink warn;
  void* context;
  int warnings = 0;

  std::string_view entry;  // the key=value being applied, for warnings

  void Warn(std::string_view what, std::string_view text) {
    FixedBuffer<512> line;
    line.Append("threadleak: warning: ").Append(what).Append(" '").Append(text);
    line.Append("' in THREADLEAK_OPTIONS (ignored)");
    ++warnings;
    if (warn != nullptr) warn(line.c_str(), context);
  }

  bool SetEnum(std::string_view key, std::string_view value, const EnumValue* values, size_t n,
               unsigned* out) {
    for (size_t i = 0; i < n; ++i) {
      if (values[i].name == value) return *out = values[i].value, true;
    }
    Warn("invalid value", entry);
    return false;
  }

  bool SetInt(std::string_view key, std::string_view value, long min, long max, long* out) {
    long result = 0;
    bool ok = !value.empty() && value.size() <= 18;
    for (char c : value) {
      if (c < '0' || c > '9')
        ok = false;
      else
        result = result * 10 + (c - '0');
    }
    if (!ok || result < min || result > max) {
      Warn("invalid value", entry);
      return false;
    }
    *out = result;
    return true;
  }

  bool SetBool(std::string_view value, bool* out) {
    if (value == "1" || value == "true") return *out = true, true;
    if (value == "0" || value == "false") return *out = false, true;
    Warn("invalid value", entry);
    return false;
  }

  bool SetString(std::string_view key, std::string_view value, char* out) {
    if (value.empty() || value.size() >= kMaxOptionString) {
      Warn("invalid value", entry);
      return false;
    }
    value.copy(out, value.size());
    out[value.size()] = '\0';
    return true;
  }

  void Apply(std::string_view key, std::string_view value) {
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  if (key == #name) {                                                    \
    SetEnum(key, value, values, std::size(values), &options->name);      \
    return;                                                              \
  }
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  if (key == #name) {                                                     \
    SetInt(key, value, min, max, &options->name);                         \
    return;                                                               \
  }
#define THREADLEAK_OPTION_BOOL(name, default_value, description) \
  if (key == #name) {                                            \
    SetBool(value, &options->name);                              \
    return;                                                      \
  }
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  if (key == #name) {                                              \
    SetString(key, value, options->name);                          \
    return;                                                        \
  }
#include "preload/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_BOOL
    Warn("unknown option", key);
  }
};

bool IsSeparator(char c) {
  return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == ',';
}

constinit Options g_options;

void WarnToStderr(const char* line, void*) {
  WriteDiagnosticLine(line);
}

}  // namespace

int ParseOptions(const char* text, Options* options, WarningSink warn, void* context) {
  Parser parser{options, warn, context};
  if (text == nullptr) return 0;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t start = 0;
    while (start < rest.size() && IsSeparator(rest[start])) ++start;
    rest.remove_prefix(start);
    if (rest.empty()) break;
    size_t end = 0;
    while (end < rest.size() && !IsSeparator(rest[end])) ++end;
    std::string_view entry(rest.data(), end);  // (substr may throw: not in the shim)
    rest.remove_prefix(end);
    size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      parser.Warn("malformed entry (expected key=value)", entry);
      continue;
    }
    parser.entry = entry;
    parser.Apply(std::string_view(entry.data(), equals),
                 std::string_view(entry.data() + equals + 1, entry.size() - equals - 1));
  }
  return parser.warnings;
}

const Options& GlobalOptions() {
  return g_options;
}

void InitGlobalOptions() {
  ParseOptions(getenv("THREADLEAK_OPTIONS"), &g_options, WarnToStderr, nullptr);
}

}  // namespace threadleak
