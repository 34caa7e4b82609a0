// The `threadleak` wrapper's command line: its flags come from one table
// (preload/config/wrapper_flags.inc), each a shorthand for options of options.inc, and their
// values are checked with the shim's own parser, so the wrapper refuses — one line, status 2 —
// what the shim would refuse, in the shim's words. The help is written from the same table.
// Used by threadleak-launch (launch.cc), which the wrapper script execs with all its arguments.
#ifndef THREADLEAK_SCRIPTS_WRAPPER_ARGUMENTS_H_
#define THREADLEAK_SCRIPTS_WRAPPER_ARGUMENTS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace threadleak {

enum class FlagKind {
  kSwitch,   // `--flag`: option=value
  kValue,    // `--flag V`, `--flag=V`: option=V
  kSeconds,  // `--flag S`, `--flag=S`: option=S in milliseconds, and the entries in `value`
};

struct WrapperFlag {
  std::string_view flag;    // "--log-path"
  std::string_view option;  // "log_path"
  FlagKind kind;
  std::string_view value;  // kSwitch: the value set; kValue: the metavar ("PATH"); kSeconds: the
                           // entries also set ("dump_on_fatal=1")
  std::string_view help;
};

// The table, in the order of `threadleak --help`.
std::span<const WrapperFlag> WrapperFlags();

// What the wrapper was asked to do.
struct WrapperCommand {
  enum Action {
    kRun,      // operands: PROGRAM [ARGS...], or a subcommand (dump, report) and its arguments
    kHelp,     // -h, --help
    kVersion,  // --version
    kError,    // `error` says why
  };
  Action action = kRun;
  std::string options;  // the flags' key=value entries, ':'-separated, in the order given
  std::vector<std::string> operands;
  bool after_double_dash = false;  // the operands followed `--`: never a subcommand
  std::string error;               // one line, without the "threadleak: error: " prefix
};

// Reads the wrapper's arguments (argv without argv[0]) up to the first operand or `--`.
WrapperCommand ParseWrapperArguments(std::span<const std::string_view> arguments);

// `threadleak --help`: the usage, the flags from the table with the options they set, the
// subcommands and the exit statuses.
std::string WrapperUsage();

// SECONDS as the wrapper takes it ("1.5", "90", ".25") in whole milliseconds, as decimal digits
// (extra fraction digits are dropped); empty when it is not a number of seconds.
std::string SecondsToMilliseconds(std::string_view seconds);

}  // namespace threadleak

#endif  // THREADLEAK_SCRIPTS_WRAPPER_ARGUMENTS_H_
