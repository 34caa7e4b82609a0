// The tool's own messages ("threadleak: warning: ..."), written straight to fd 2 with write(2):
// no stdio buffer shared with the program, async-signal-safe.
#ifndef THREADLEAK_PRELOAD_DIAGNOSTICS_H_
#define THREADLEAK_PRELOAD_DIAGNOSTICS_H_

#include <string_view>

namespace threadleak {

// Writes all of `text` to `fd`, retrying short writes and EINTR. Returns false on error.
bool WriteAll(int fd, std::string_view text);

// Writes `line` and a newline to stderr.
void WriteDiagnosticLine(std::string_view line);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_DIAGNOSTICS_H_
