// A thread dump as a pprof profile (github.com/google/pprof, proto/profile.proto): one sample per
// thread, sample type threads/count, stacks as locations with functions, files, lines and
// inline frames, and labels for what a report knows about the thread — the shape of Go's
// goroutine profile, so `go tool pprof` and the profile stores that ingest pprof read it as is.
//
// Shared by the report module (format=pprof) and `threadleak report --format pprof`. Plain
// values in, bytes out: no I/O, no global state; safe to call from any one thread at a time per
// call (nothing is shared between calls).
#ifndef THREADLEAK_PRELOAD_REPORT_PPROF_THREAD_PROFILE_H_
#define THREADLEAK_PRELOAD_REPORT_PPROF_THREAD_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace threadleak::pprof {

struct ProfileFrame {
  std::string function;  // "??" or empty when unknown
  std::string file;      // empty when unknown
  int64_t line = 0;      // 0 when unknown
  std::string module;    // path of the ELF object; empty when unknown
  std::string build_id;  // hex; empty when unknown
  // The address within the module (pc minus load bias), the same in every process that maps
  // the module, so stacks of many processes share their locations. 0 when unknown.
  uint64_t module_offset = 0;
  // A call inlined into the next frame (which holds the code at the same address).
  bool inlined = false;
};

// A sample label: a string, or a number with its unit ("milliseconds").
struct ProfileLabel {
  std::string key;
  std::string text;
  int64_t number = 0;
  std::string unit;
  bool numeric = false;

  static ProfileLabel Text(std::string key, std::string text) {
    return {std::move(key), std::move(text), 0, "", false};
  }
  static ProfileLabel Number(std::string key, int64_t number, std::string unit) {
    return {std::move(key), "", number, std::move(unit), true};
  }
};

struct ProfileThread {
  std::vector<ProfileFrame> stack;  // innermost first
  std::vector<ProfileLabel> labels;
};

struct ProfileHeader {
  int64_t time_nanos = 0;             // when the threads were seen (ns since the epoch), or 0
  std::vector<std::string> comments;  // free text pprof shows with -comments
  // The program's module (and build-id), which pprof expects as the first mapping; when empty,
  // the module of a frame named "main" in the stacks, if any.
  std::string program_module;
  std::string program_build_id;
};

// The profile.proto message for `threads`, gzipped as pprof files are on disk. Threads with
// equal stacks share locations and functions; each thread stays a sample of its own (value 1),
// so its labels survive. Throws std::bad_alloc, or std::runtime_error if zlib fails.
std::string EncodeThreadProfile(const std::vector<ProfileThread>& threads,
                                const ProfileHeader& header);

}  // namespace threadleak::pprof

#endif  // THREADLEAK_PRELOAD_REPORT_PPROF_THREAD_PROFILE_H_
