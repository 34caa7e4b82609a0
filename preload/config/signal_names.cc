#include "preload/config/signal_names.h"

#include <signal.h>

namespace threadleak {
namespace {

struct Name {
  std::string_view name;
  int number;
};

constexpr Name kNames[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

bool ParseNumber(std::string_view text, int* out) {
  if (text.empty() || text.size() > 3) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

bool Catchable(int number) {
  switch (number) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
      return false;
    default:
      return number > 0 && number <= SIGRTMAX;
  }
}

}  // namespace

int ParseSignal(std::string_view text) {
  if (text == "none" || text == "0") return kNoSignal;
  int number = 0;
  if (ParseNumber(text, &number)) return Catchable(number) ? number : kBadSignal;
  if (text.starts_with("SIG")) text.remove_prefix(3);
  // (No substr() here: the shim is built without the C++ runtime, and substr may throw.)
  for (const Name& name : kNames) {
    if (name.name == text) return name.number;
  }
  for (std::string_view base : {std::string_view("RTMIN"), std::string_view("RTMAX")}) {
    if (!text.starts_with(base)) continue;
    std::string_view offset = text;
    offset.remove_prefix(base.size());
    int base_number = base == "RTMIN" ? SIGRTMIN : SIGRTMAX;
    if (offset.empty()) return base_number;
    int delta = 0;
    std::string_view digits = offset;
    digits.remove_prefix(1);
    if ((offset[0] == '+' || offset[0] == '-') && ParseNumber(digits, &delta)) {
      int result = offset[0] == '+' ? base_number + delta : base_number - delta;
      return result >= SIGRTMIN && result <= SIGRTMAX ? result : kBadSignal;
    }
  }
  return kBadSignal;
}

int ParseSignalOption(std::string_view text) {
  const int signal = ParseSignal(text);
  return signal == SamplingSignal() ? kBadSignal : signal;
}

}  // namespace threadleak
