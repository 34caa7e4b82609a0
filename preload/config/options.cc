#include "preload/config/options.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <iterator>
#include <string_view>

#include "preload/config/signal_names.h"
#include "preload/io/diagnostics.h"
#include "preload/io/fixed_buffer.h"
#include "preload/io/small_file.h"

namespace threadleak {
namespace {

struct EnumValue {
  std::string_view name;
  unsigned value;
};

constexpr EnumValue kFormatValues[] = {{"text", TL_FORMAT_TEXT},
                                       {"json", TL_FORMAT_JSON},
                                       {"dot", TL_FORMAT_DOT},
                                       {"pprof", TL_FORMAT_PPROF}};

constexpr int kMaxIncludeDepth = 4;
constexpr size_t kMaxIncludeBytes = 64 * 1024;

struct Parser {
  Options* options;
  WarningSink warn;
  void* context;
  const char* source;
  int depth = 0;
  int warnings = 0;
  // CheckOptionEntry's parse: signal values are checked now rather than when first used, an
  // include= file is not read, and the first problem is kept in its words.
  bool checking = false;
  OptionProblem* problem = nullptr;

  std::string_view entry{};  // the key=value being applied, for warnings

  void Warn(std::string_view what, std::string_view text) {
    if (problem != nullptr && warnings == 0)
      problem->Append(what).Append(" '").Append(text).Append("'");
    ++warnings;
    if (warn == nullptr) return;
    FixedBuffer<512> line;
    line.Append("threadleak: warning: ").Append(what).Append(" '").Append(text);
    line.Append("' in ").Append(source).Append(" (ignored)");
    warn(line.c_str(), context);
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
    // At most 18 digits: no overflow (checked before any digit is read).
    bool ok = !value.empty() && value.size() <= 18;
    for (size_t i = 0; ok && i < value.size(); ++i) {
      char c = value[i];
      ok = c >= '0' && c <= '9';
      result = ok ? result * 10 + (c - '0') : result;
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
#define THREADLEAK_OPTION_STRING(name, default_value, description)               \
  if (key == #name) {                                                            \
    if (SetString(key, value, options->name) && key == "include" && !checking) { \
      Include(options->name);                                                    \
    }                                                                            \
    return;                                                                      \
  }
#define THREADLEAK_OPTION_SIGNAL(name, default_value, description) \
  if (key == #name) {                                              \
    if (SetString(key, value, options->name) && checking &&        \
        ParseSignalOption(value) == kBadSignal) {                  \
      Warn("invalid value", entry);                                \
    }                                                              \
    return;                                                        \
  }
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
#undef THREADLEAK_OPTION_BOOL
    Warn("unknown option", key);
  }

  void Include(const char* path);
};

bool IsSeparator(char c) {
  return c == ':' || c == ' ' || c == '\t' || c == '\n' || c == ',';
}

constinit Options g_options;

// The program's stderr is the program's: a long run of bad entries (a mangled variable) is
// summed up after the first few rather than flooding it.
void WarnToStderr(const char* line, void* context) {
  static_cast<WarningCap*>(context)->Write(line);
}

void ParseToStderr(const char* text, const char* source) {
  WarningCap warnings;
  ParseOptions(text, &g_options, WarnToStderr, &warnings, source);
  warnings.Finish("warning", source, "ignored");
}

}  // namespace

int ParseText(Parser& parser, std::string_view rest) {
  while (!rest.empty()) {
    size_t start = 0;
    while (start < rest.size() && IsSeparator(rest[start])) ++start;
    rest.remove_prefix(start);
    if (rest.empty()) break;
    if (rest.front() == '#') {  // a comment, to the end of the line
      size_t newline = rest.find('\n');
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline);
      continue;
    }
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

// include=FILE: the file's options apply where the include stands.
void Parser::Include(const char* path) {
  if (depth >= kMaxIncludeDepth) return Warn("includes nested too deep", entry);
  char file_path[kMaxOptionString];
  memcpy(file_path, path, strlen(path) + 1);  // the option's storage is reused by nested includes
  SmallFile file;
  if (!file.Read(file_path, kMaxIncludeBytes, "larger than 64 KiB")) {
    FixedBuffer<128> what;
    what.Append("cannot read the file (").Append(file.error()).Append(") of");
    return Warn(what.view(), entry);
  }
  Parser nested{.options = options,
                .warn = warn,
                .context = context,
                .source = file_path,
                .depth = depth + 1};
  warnings += ParseText(nested, file.text());
}

int ParseOptions(const char* text, Options* options, WarningSink warn, void* context,
                 const char* source) {
  if (text == nullptr) return 0;
  Parser parser{.options = options, .warn = warn, .context = context, .source = source};
  return ParseText(parser, text);
}

bool CheckOptionEntry(std::string_view entry, OptionProblem* problem) {
  problem->Clear();
  for (char c : entry) {
    if (IsSeparator(c)) {
      problem->Append("a separator (':', ',' or whitespace) in '").Append(entry).Append("'");
      return false;
    }
  }
  Options scratch;
  Parser parser{.options = &scratch,
                .warn = nullptr,
                .context = nullptr,
                .source = "",
                .checking = true,
                .problem = problem};
  return ParseText(parser, entry) == 0;
}

namespace {

// The name an enum option's value is written with; null for a value not in its table.
const char* EnumValueName(const EnumValue* values, size_t n, unsigned value) {
  for (size_t i = 0; i < n; ++i) {
    if (values[i].value == value) return values[i].name.data();
  }
  return nullptr;
}

}  // namespace

bool HoldsDeclaredValues(const Options& options) {
  bool declared = true;
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  declared = declared && EnumValueName(values, std::size(values), options.name) != nullptr;
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  declared = declared && options.name >= (min) && options.name <= (max);
#define THREADLEAK_OPTION_BOOL(name, default_value, description)
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  declared = declared && memchr(options.name, '\0', sizeof options.name) != nullptr;
#define THREADLEAK_OPTION_SIGNAL THREADLEAK_OPTION_STRING
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
#undef THREADLEAK_OPTION_BOOL
  return declared;
}

void ForEachOptionDoc(void (*visit)(const OptionDoc& doc, void* context), void* context) {
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  visit({#name, EnumValueName(values, std::size(values), default_value), description}, context);
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  visit({#name, #default_value, description}, context);
#define THREADLEAK_OPTION_BOOL(name, default_value, description) \
  visit({#name, #default_value, description}, context);
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  visit({#name, default_value, description}, context);
#define THREADLEAK_OPTION_SIGNAL THREADLEAK_OPTION_STRING
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
#undef THREADLEAK_OPTION_BOOL
}

void PrintOptionsHelp(int fd) {
  WriteAll(fd, "threadleak options, set as THREADLEAK_OPTIONS=key=value:key=value\n");
  ForEachOptionDoc(
      [](const OptionDoc& doc, void* opaque) {
        FixedBuffer<1024> line;
        line.Append("  ").Append(doc.name).AppendChar('=').Append(doc.default_text);
        line.Append("\n      ").Append(doc.description).AppendChar('\n');
        WriteAll(*static_cast<int*>(opaque), line.view());
      },
      &fd);
}

const Options& GlobalOptions() {
  return g_options;
}

void InitGlobalOptions() {
  // A program's built-in defaults: found only if the program exports the function (link with
  // -rdynamic, or -Wl,--export-dynamic-symbol=__threadleak_default_options).
  using DefaultOptionsFn = const char* (*)();
  if (auto hook =
          reinterpret_cast<DefaultOptionsFn>(dlsym(RTLD_DEFAULT, "__threadleak_default_options"))) {
    ParseToStderr(hook(), "__threadleak_default_options()");
  }
  ParseToStderr(getenv("THREADLEAK_OPTIONS"), "THREADLEAK_OPTIONS");
}

}  // namespace threadleak
