// The tool's own messages ("threadleak: warning: ..."), written straight to fd 2 with write(2):
// no stdio buffer shared with the program, no allocation, async-signal-safe.
//
// The program's stderr is the program's: every line is bounded, bytes outside printable ASCII
// are written as \xNN (a binary file named in an option cannot put control characters on a
// terminal), each kind of problem shows at most WarningCap::kShown lines and then one line for
// the rest, and nothing is written once fd 2 no longer names the file it named at start-up (the
// program closed it, or opened one of its own files on that number).
#ifndef THREADLEAK_PRELOAD_IO_DIAGNOSTICS_H_
#define THREADLEAK_PRELOAD_IO_DIAGNOSTICS_H_

#include <atomic>
#include <string_view>

namespace threadleak {

// Writes all of `text` to `fd`, retrying short writes and EINTR. Returns false on error.
bool WriteAll(int fd, std::string_view text);

// Records which files fds 1 and 2 name (device and inode), once, at start-up.
void RememberStandardStreams();

// Whether `fd` (1 or 2) still names the file it named at start-up; false if it was closed then
// or is now. True when nothing was recorded (the report module's copy, unit tests).
bool StandardStreamUnchanged(int fd);

// Writes `line`, escaped and bounded, and a newline to stderr, if stderr is unchanged.
void WriteDiagnosticLine(std::string_view line);

// At most kShown lines of one kind of problem reach stderr; the others are counted. Usable as a
// constinit global (process-wide problems) or a local (one option string, one file).
class WarningCap {
 public:
  static constexpr int kShown = 10;

  // Writes `line` unless kShown lines went through this cap already; counts it either way.
  void Write(std::string_view line);

  // After the last problem of a bounded source: one line for those not shown, if any —
  // "threadleak: LEVEL: N more problems in SOURCE not shown (OUTCOME)".
  void Finish(std::string_view level, std::string_view source, std::string_view outcome) const;

  // For problems that can recur as long as the process runs (there is no "last" to count
  // after): the first one over the cap is replaced by "threadleak: warning: more problems with
  // SUBJECT are not shown".
  void WriteOngoing(std::string_view line, std::string_view subject);

  int count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> count_{0};
};

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_IO_DIAGNOSTICS_H_
