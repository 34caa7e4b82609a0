// Signal names as people write them in options: "SIGUSR2", "USR2", "12", "SIGRTMIN+3", "none".
#ifndef THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_
#define THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_

#include <string_view>

namespace threadleak {

inline constexpr int kNoSignal = 0;
inline constexpr int kBadSignal = -1;

// The signal number; kNoSignal for "none"/"0"; kBadSignal for anything else or for signals
// that cannot be caught (SIGKILL, SIGSTOP) or that the tool must not take (SIGSEGV and the
// other synchronous faults). No allocation.
int ParseSignal(std::string_view text);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CONFIG_SIGNAL_NAMES_H_
