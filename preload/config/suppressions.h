// Suppression files, sanitizer-style: one rule a line, `KIND:PATTERN`, `#` starts a comment.
//
//   thread:NAME        the thread's name
//   top:FUNC           the first frame of the program's own code where the thread waits
//                      (goleak's IgnoreTopFunction)
//   any:FUNC           any frame of the stack where it waits (IgnoreAnyFunction)
//   created_by:FUNC    any frame of its creation stack (IgnoreCreatedBy)
//   module:LIB         a frame of that library in either stack (file name, e.g. libglib-2.0.so*)
//
// Patterns are globs (fnmatch: * ? [..]). A function pattern matches the demangled name, or the
// qualified name without parameters and return type ("Writer::process" matches
// "Writer::process() const").
//
// Parsed once at start-up into a fixed table: no allocation, bounded input. The report module
// does the matching, on symbolized frames.
#ifndef THREADLEAK_PRELOAD_CONFIG_SUPPRESSIONS_H_
#define THREADLEAK_PRELOAD_CONFIG_SUPPRESSIONS_H_

#include <cstddef>
#include <string_view>

#include "preload/config/options.h"
#include "preload/core/snapshot.h"

namespace threadleak {

inline constexpr size_t kMaxSuppressions = 256;
inline constexpr size_t kMaxSuppressionFileBytes = 1 << 20;

struct SuppressionTable {
  tl_suppression rules[kMaxSuppressions] = {};
  size_t count = 0;
};

// Parses the text of a suppression file named `file` into `table`. Each malformed line gives
// one error line through `warn` ("FILE:LINE: ...") and is skipped; the others apply. Returns
// the number of errors.
int ParseSuppressions(std::string_view text, const char* file, SuppressionTable* table,
                      WarningSink warn, void* context);

// Reads and parses the suppressions option's file into the process-wide table (start-up). A
// path that is no regular file (a FIFO is never waited on), cannot be read or holds more than
// 1 MiB gives one error line; malformed lines give at most eleven (diagnostics.h, WarningCap).
void LoadGlobalSuppressions();
const SuppressionTable& GlobalSuppressions();

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_CONFIG_SUPPRESSIONS_H_
