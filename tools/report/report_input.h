// Reading the JSON Lines reports the shim writes (format=json; README "JSON report") into plain
// values. Every field the README calls stable is read; anything unknown is ignored, so reports
// of newer versions still read.
#ifndef THREADLEAK_TOOLS_REPORT_REPORT_INPUT_H_
#define THREADLEAK_TOOLS_REPORT_REPORT_INPUT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace threadleak::report_tool {

struct Frame {
  std::string function;  // "??" when unknown
  std::string file;      // empty when unknown
  int64_t line = 0;      // 0 when unknown
  std::string module;    // "??" when unknown
  std::string build_id;
  uint64_t offset = 0;  // pc minus the module's load bias; 0 when unknown
  bool inlined = false;
  bool runtime = false;  // libc, libstdc++, std:: templates, threadleak's own frames
};

struct Thread {
  int64_t tid = 0;
  std::string name;
  std::string state;
  std::string object;  // "0x…", or empty
  int64_t blocked_ms = -1;
  bool blocked_ms_at_least = false;  // the wait's start was not recorded: a lower bound
  std::string syscall;
  bool main = false;
  std::string verdict;  // leaked, alive, blocked, deadlocked, ignored
  std::string certainty;
  std::string reason;
  std::vector<int64_t> blocked_by;
  std::string test;  // GoogleTest "Suite.Name", or empty
  std::string stack_missing;
  std::vector<Frame> stack;  // innermost first
  int64_t creator_tid = -1;
  std::string creator_name;
  std::vector<Frame> creation;
};

struct WaitEdge {
  int64_t from = 0;
  int64_t to = 0;
  std::string state;
  std::string object;
};

struct Deadlock {
  std::vector<int64_t> tids;
  std::vector<WaitEdge> edges;
};

// One report: one line of a file.
struct ProcessReport {
  std::string origin;  // "FILE:LINE", for messages
  int64_t pid = 0;
  std::string trigger;  // exit, api, signal, timeout, watchdog
  std::string version;
  std::vector<Thread> threads;
  std::vector<Deadlock> deadlocks;
};

struct ReadResult {
  std::vector<ProcessReport> reports;
  std::vector<std::string> errors;  // one line each: "FILE:LINE: what is wrong"
};

// Reads every report of every file, in order; a directory stands for its regular files. A file
// that cannot be read, a line that is not a
// threadleak JSON report (a text report in the same log, a torn line) gives one error and is
// skipped; the rest is read.
ReadResult ReadReportFiles(const std::vector<std::string>& paths);

// Parses one line; false with *error set if it is not a threadleak JSON report.
bool ParseReportLine(const std::string& line, ProcessReport* report, std::string* error);

}  // namespace threadleak::report_tool

#endif  // THREADLEAK_TOOLS_REPORT_REPORT_INPUT_H_
