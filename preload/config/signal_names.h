// Signal names as people write them in options: "SIGUSR2", "USR2", "12", "SIGRTMIN+3", "none".
#ifndef THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_
#define THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_

#include <signal.h>

#include <string_view>

namespace threadleak {

inline constexpr int kNoSignal = 0;
inline constexpr int kBadSignal = -1;

// The signal number; kNoSignal for "none"/"0"; kBadSignal for anything else or for signals
// that cannot be caught (SIGKILL, SIGSTOP) or that the tool must not take (SIGSEGV and the
// other synchronous faults). No allocation.
int ParseSignal(std::string_view text);

// The real-time signal threadleak samples running threads with (capture/stack_sampler.h): its
// own, never one an option may name. Near the top of the range: programs that use real-time
// signals usually count up from SIGRTMIN. (A function: SIGRTMAX is not a constant.)
inline int SamplingSignal() {
  return SIGRTMAX - 3;
}

// A signal option's value (options.inc's THREADLEAK_OPTION_SIGNAL: dump_signal), as the shim
// takes it: ParseSignal's answer, and kBadSignal for the sampling signal too. The wrapper checks
// its flags' values with it (CheckOptionEntry), so it refuses what the shim would refuse.
int ParseSignalOption(std::string_view text);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_
