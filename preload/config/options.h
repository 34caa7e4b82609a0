// Options from THREADLEAK_OPTIONS: `key=value` pairs separated by ':' (or whitespace), the
// sanitizer convention. Parsing never allocates and never fails the program: a bad entry yields
// one warning line and leaves that option at its default.
#ifndef THREADLEAK_PRELOAD_CONFIG_OPTIONS_H_
#define THREADLEAK_PRELOAD_CONFIG_OPTIONS_H_

#include <cstddef>
#include <string_view>

#include "preload/core/snapshot.h"
#include "preload/io/fixed_buffer.h"

namespace threadleak {

inline constexpr size_t kMaxOptionString = 1024;

struct Options {
#define THREADLEAK_OPTION_ENUM(name, default_value, values, description) \
  unsigned name = default_value;
#define THREADLEAK_OPTION_INT(name, default_value, min, max, description) long name = default_value;
#define THREADLEAK_OPTION_BOOL(name, default_value, description) bool name = default_value;
#define THREADLEAK_OPTION_STRING(name, default_value, description) \
  char name[kMaxOptionString] = default_value;
#define THREADLEAK_OPTION_SIGNAL THREADLEAK_OPTION_STRING
#include "preload/config/options.inc"
#undef THREADLEAK_OPTION_ENUM
#undef THREADLEAK_OPTION_INT
#undef THREADLEAK_OPTION_STRING
#undef THREADLEAK_OPTION_SIGNAL
#undef THREADLEAK_OPTION_BOOL
};

// Receives one complete warning line (without the trailing newline).
using WarningSink = void (*)(const char* line, void* context);

// An option as documented: by help=1 and in the README's table (a test keeps them equal).
struct OptionDoc {
  const char* name;
  const char* default_text;  // as a user would write it; "" when empty
  const char* description;
};

void ForEachOptionDoc(void (*visit)(const OptionDoc& doc, void* context), void* context);

// Whether every option holds a value it can be given: an enum one of its table's, an integer
// within its range, a string terminated within its buffer. What parsing leaves always does.
bool HoldsDeclaredValues(const Options& options);

// Writes help=1's text: every option, its default and description.
void PrintOptionsHelp(int fd);

// Parses `text` (may be null) over `options`, which holds defaults or earlier values. `source`
// names where the text came from in warnings ("THREADLEAK_OPTIONS"). include=FILE parses FILE at
// that point (nesting is bounded; a FIFO, a directory, a device or a file over 64 KiB is one
// warning, never waited on). Returns the number of warnings issued.
int ParseOptions(const char* text, Options* options, WarningSink warn, void* context,
                 const char* source = "THREADLEAK_OPTIONS");

// Why the shim would not take an option entry as given, in the words of its warning:
// "invalid value 'exitcode=300'".
using OptionProblem = FixedBuffer<512>;

// The shim's verdict on one `key=value` entry, as if it stood alone in THREADLEAK_OPTIONS, without
// applying it: true if the shim would take it as given; otherwise false and `problem` says why. A
// value holding a separator (':', ',', whitespace) is refused: the shim would split it. A signal
// option's value is checked now, with the rule the shim applies when it first uses it
// (ParseSignalOption). include= is checked as a value; its file is not read. For the wrapper's
// flags (scripts/wrapper_arguments.h), which must refuse what the shim would refuse.
bool CheckOptionEntry(std::string_view entry, OptionProblem* problem);

// The process-wide options, read once at start-up: the defaults, then what the program's
// __threadleak_default_options() returns (if it defines and exports one), then
// THREADLEAK_OPTIONS; a later value wins.
const Options& GlobalOptions();
void InitGlobalOptions();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CONFIG_OPTIONS_H_
