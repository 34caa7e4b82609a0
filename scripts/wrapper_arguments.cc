#include "scripts/wrapper_arguments.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "preload/config/options.h"

namespace threadleak {
namespace {

// (sizeof: a flag naming an option options.inc does not declare fails to compile.)
#define THREADLEAK_FLAG_ENTRY(flag, option, kind, value, help) \
  {flag, (void(sizeof(Options::option)), #option), kind, value, help},
constexpr WrapperFlag kFlags[] = {
#define THREADLEAK_FLAG_SWITCH(flag, option, value, help) \
  THREADLEAK_FLAG_ENTRY(flag, option, FlagKind::kSwitch, value, help)
#define THREADLEAK_FLAG_VALUE(flag, option, metavar, help) \
  THREADLEAK_FLAG_ENTRY(flag, option, FlagKind::kValue, metavar, help)
#define THREADLEAK_FLAG_SECONDS(flag, option, also, help) \
  THREADLEAK_FLAG_ENTRY(flag, option, FlagKind::kSeconds, also, help)
#include "preload/config/wrapper_flags.inc"
#undef THREADLEAK_FLAG_SWITCH
#undef THREADLEAK_FLAG_VALUE
#undef THREADLEAK_FLAG_SECONDS
};
#undef THREADLEAK_FLAG_ENTRY

constexpr size_t kHelpWidth = 95;

// What the help says of the option a flag sets: its default as a user writes it, and the range
// of an integer.
struct OptionFacts {
  std::string default_text;
  std::optional<std::pair<long, long>> range;
};

OptionFacts FactsOf(std::string_view option) {
  OptionFacts facts;
  struct Search {
    std::string_view option;
    OptionFacts* facts;
  } search{option, &facts};
  ForEachOptionDoc(
      [](const OptionDoc& doc, void* opaque) {
        auto* search = static_cast<Search*>(opaque);
        if (doc.name == search->option) search->facts->default_text = doc.default_text;
      },
      &search);
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) \
  if (option == #name) facts.range = std::pair<long, long>(min, max);
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
  return facts;
}

// "(log_path=PATH; default stderr)": what a flag sets, from options.inc.
std::string WhatItSets(const WrapperFlag& flag) {
  const OptionFacts facts = FactsOf(flag.option);
  std::string text = "(" + std::string(flag.option) + "=";
  switch (flag.kind) {
    case FlagKind::kSwitch:
      text += flag.value;
      if (flag.value == facts.default_text) text += ", the default";
      return text + ")";
    case FlagKind::kValue:
      text += flag.value;
      break;
    case FlagKind::kSeconds:
      text += "SECONDS in ms";
      break;
  }
  if (facts.range) {
    text +=
        ", " + std::to_string(facts.range->first) + " to " + std::to_string(facts.range->second);
  }
  if (flag.kind == FlagKind::kSeconds) return text + "; and " + std::string(flag.value) + ")";
  if (!facts.default_text.empty()) text += "; default " + facts.default_text;
  return text + ")";
}

// Appends "  LEFT  TEXT" to `out`, TEXT wrapped at kHelpWidth and indented to `column`.
void AppendHelpItem(std::string* out, std::string_view left, std::string_view text, size_t column) {
  std::string line = "  " + std::string(left);
  line.append(column > line.size() ? column - line.size() : 1, ' ');
  bool line_has_words = false;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    if (line_has_words && line.size() + 1 + word.size() > kHelpWidth) {
      *out += line + "\n";
      line.assign(column, ' ');
      line_has_words = false;
    }
    if (line_has_words) line += ' ';
    line += word;
    line_has_words = true;
  }
  *out += line + "\n";
}

std::string LeftColumn(const WrapperFlag& flag) {
  switch (flag.kind) {
    case FlagKind::kSwitch:
      return std::string(flag.flag);
    case FlagKind::kValue:
      return std::string(flag.flag) + " " + std::string(flag.value);
    case FlagKind::kSeconds:
      return std::string(flag.flag) + " SECONDS";
  }
  return std::string(flag.flag);
}

// The wrapper's own items, after the table's.
struct OwnItem {
  std::string_view left;
  std::string_view help;
};
constexpr OwnItem kOwnItems[] = {
    {"-o, --option K=V", "any option of THREADLEAK_OPTIONS, e.g. -o linger_ms=100"},
    {"-h, --help", "show this help"},
    {"--version", "print the version"},
};

class Parser {
 public:
  explicit Parser(std::span<const std::string_view> arguments) : arguments_(arguments) {}

  WrapperCommand Parse() {
    while (next_ < arguments_.size() && command_.action == WrapperCommand::kRun) {
      const std::string_view argument = arguments_[next_];
      if (argument == "-h" || argument == "--help") return Finish(WrapperCommand::kHelp);
      if (argument == "--version") return Finish(WrapperCommand::kVersion);
      if (argument == "--") {
        ++next_;
        command_.after_double_dash = true;
        break;
      }
      if (!argument.starts_with("-")) break;
      ++next_;
      if (!TakeOption(argument) && !TakeTableFlag(argument)) {
        Fail("unknown option '" + std::string(argument) + "' (see threadleak --help)");
      }
    }
    if (command_.action != WrapperCommand::kRun) return command_;
    command_.operands.assign(arguments_.begin() + static_cast<ptrdiff_t>(next_), arguments_.end());
    return command_;
  }

 private:
  WrapperCommand Finish(WrapperCommand::Action action) {
    command_.action = action;
    return command_;
  }

  void Fail(std::string error) {
    if (command_.action == WrapperCommand::kError) return;
    command_.action = WrapperCommand::kError;
    command_.error = std::move(error);
  }

  void Add(std::string_view entry) {
    if (!command_.options.empty()) command_.options += ':';
    command_.options += entry;
  }

  // The value of `--flag V` (the next argument) or `--flag=V`; nullopt, and the error set, when
  // there is none.
  std::optional<std::string_view> ValueOf(std::string_view flag, std::string_view argument) {
    if (argument.size() > flag.size()) return argument.substr(flag.size() + 1);
    if (next_ >= arguments_.size()) {
      Fail(std::string(flag) + " needs a value");
      return std::nullopt;
    }
    return arguments_[next_++];
  }

  // -o K=V, --option K=V, --option=K=V: passed on as written (the shim warns about what it does
  // not take, as it would from THREADLEAK_OPTIONS).
  bool TakeOption(std::string_view argument) {
    std::string_view flag = argument == "-o" ? "-o" : "--option";
    if (argument != "-o" && argument != "--option" && !argument.starts_with("--option=")) {
      return false;
    }
    std::optional<std::string_view> entry = ValueOf(flag, argument);
    if (!entry) return true;
    if (entry->find('=') == std::string_view::npos) {
      Fail("option '" + std::string(*entry) + "' is not of the form key=value");
      return true;
    }
    Add(*entry);
    return true;
  }

  bool TakeTableFlag(std::string_view argument) {
    for (const WrapperFlag& flag : kFlags) {
      const bool exact = argument == flag.flag;
      const bool with_value = flag.kind != FlagKind::kSwitch && argument.starts_with(flag.flag) &&
                              argument.size() > flag.flag.size() &&
                              argument[flag.flag.size()] == '=';
      if (!exact && !with_value) continue;
      if (flag.kind == FlagKind::kSwitch) {
        AddChecked(flag, std::string(flag.option) + "=" + std::string(flag.value));
        return true;
      }
      std::optional<std::string_view> value = ValueOf(flag.flag, argument);
      if (!value) return true;
      std::string entry = std::string(flag.option) + "=";
      if (flag.kind == FlagKind::kSeconds) {
        std::string milliseconds = SecondsToMilliseconds(*value);
        if (milliseconds.empty()) {
          Fail(std::string(flag.flag) + " takes a number of seconds, not '" + std::string(*value) +
               "'");
          return true;
        }
        if (AddChecked(flag, entry + milliseconds)) AddChecked(flag, flag.value);
      } else {
        AddChecked(flag, entry + std::string(*value));
      }
      return true;
    }
    return false;
  }

  // The shim's verdict first: what it would not take as given, the wrapper refuses.
  bool AddChecked(const WrapperFlag& flag, std::string_view entry) {
    OptionProblem problem;
    if (!CheckOptionEntry(entry, &problem)) {
      Fail(std::string(flag.flag) + ": " + std::string(problem.view()));
      return false;
    }
    Add(entry);
    return true;
  }

  std::span<const std::string_view> arguments_;
  size_t next_ = 0;
  WrapperCommand command_;
};

}  // namespace

std::span<const WrapperFlag> WrapperFlags() {
  return kFlags;
}

WrapperCommand ParseWrapperArguments(std::span<const std::string_view> arguments) {
  return Parser(arguments).Parse();
}

std::string SecondsToMilliseconds(std::string_view seconds) {
  const size_t dot = seconds.find('.');
  std::string_view whole = seconds.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : seconds.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return "";
  for (std::string_view digits : {whole, fraction}) {
    for (char c : digits) {
      if (c < '0' || c > '9') return "";
    }
  }
  std::string milliseconds(whole);
  milliseconds += std::string(fraction.substr(0, 3));
  milliseconds.append(3 - std::min<size_t>(fraction.size(), 3), '0');
  const size_t first = milliseconds.find_first_not_of('0');
  return first == std::string::npos ? "0" : milliseconds.substr(first);
}

std::string WrapperUsage() {
  std::string usage = R"(usage: threadleak [options] [--] PROGRAM [ARGS...]
       threadleak dump PID
       threadleak report [--format text|junit|sarif|github|html|pprof] [-o FILE] REPORT...

Runs PROGRAM with libthreadleak.so preloaded. When PROGRAM ends with threads still alive, a
report is written and the exit status becomes the leak status (default 66) unless PROGRAM's own
status was already non-zero. Otherwise PROGRAM's exit status is passed through.

options (in parentheses: the options of THREADLEAK_OPTIONS each one sets):
)";
  size_t column = 0;
  for (const WrapperFlag& flag : kFlags) column = std::max(column, LeftColumn(flag).size());
  for (const OwnItem& item : kOwnItems) column = std::max(column, item.left.size());
  column += 3;  // two spaces before, one after
  for (const WrapperFlag& flag : kFlags) {
    AppendHelpItem(&usage, LeftColumn(flag), std::string(flag.help) + " " + WhatItSets(flag),
                   column);
  }
  for (const OwnItem& item : kOwnItems) AppendHelpItem(&usage, item.left, item.help, column);
  usage += R"(
Options given here are appended to THREADLEAK_OPTIONS from the environment; later ones win. A
value the shim would not take (a number out of its range, a signal it cannot use) is refused.

threadleak dump PID asks PID, a process running under threadleak, for a dump of its threads
and prints it; the process also writes it where it writes its reports. The request goes to
threadleak's own thread in PID: no thread of the program is interrupted, and the dump signal
sent by anyone else keeps its usual effect. Which signal that is, PID itself shows.

threadleak report reads JSON Lines reports (--json) of any number of processes, groups
identical leaks and writes them for people or CI; its exit status is 1 when a leak was found
(threadleak report --help).

exit status: PROGRAM's own; 66 (or --exitcode) when threads leaked and PROGRAM's status was 0
(never with --staging);
124 when --timeout ended it; 2 for a usage error of the wrapper; 126 when PROGRAM cannot be
watched, and is not run: it is statically linked (no dynamic loader, so nothing is preloaded),
or set-user-ID/set-group-ID for another user (the loader ignores LD_PRELOAD there).
)";
  return usage;
}

}  // namespace threadleak
