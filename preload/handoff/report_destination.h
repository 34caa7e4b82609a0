// Where a report is written, through a descriptor opened for that report and closed after it: a
// descriptor kept open between reports may be closed by the program (which closes fds 3..N and
// opens its data files), and the next report would go into whatever file got its number.
//
// The destinations, in the order tried when one cannot be opened or written:
//   log file  log_path=P: P.PID, created by the process's first report with O_EXCL|O_NOFOLLOW and
//             mode 0600; later reports reopen it (O_APPEND|O_NOFOLLOW) and write only if it is
//             still the file created (same device and inode); created again if it was removed.
//   stdout    log_path=stdout: fd 1, while it names the file it named at start-up.
//   stderr    log_path=stderr (the default), and after the two above: fd 2, on the same terms.
//   fallback  $TMPDIR/threadleak.PID.report (/tmp without an absolute TMPDIR), created like the
//             log file: for a program that closed its stderr (xz -T4 does) or opened a file of its
//             own on fd 2.
// Each destination that fails gives one warning line (capped like every warning).
//
// Not for signal handlers. Called with the report lock held.
#ifndef THREADLEAK_PRELOAD_HANDOFF_REPORT_DESTINATION_H_
#define THREADLEAK_PRELOAD_HANDOFF_REPORT_DESTINATION_H_

#include <sys/types.h>

namespace threadleak {

enum class Destination { kLogFile, kStdout, kStderr, kFallbackFile, kNone };

struct OpenedDestination {
  Destination where = Destination::kNone;
  int fd = -1;            // -1: nowhere could be opened
  bool owned = false;     // opened for this report, closed after it (not fd 1 or 2)
  off_t size_before = 0;  // of a file, when opened: a report that failed halfway is cut off
};

// Reads TMPDIR for the fallback file, at start-up (the environment is the program's later).
void InitReportDestinations();

// The first destination of a report: the one log_path names, or the next if that is a standard
// stream the program has closed or replaced.
Destination ConfiguredDestination();

// Opens `where`, or the next destination that opens, with one warning for each that does not.
OpenedDestination OpenReportDestination(Destination where);

// After a failed write (`error`): cuts the file back to its size before the report, closes it,
// warns once, and returns the destination to try next (kNone when there is none).
Destination AbandonDestination(OpenedDestination* open, int error);

void CloseReportDestination(OpenedDestination* open);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_HANDOFF_REPORT_DESTINATION_H_
