// threadleak-report: reads JSON Lines reports of any number of processes and writes them, grouped,
// as text, JUnit XML, SARIF, GitHub annotations, an HTML page or a pprof profile. Run as
// `threadleak report ...` (scripts/threadleak.in); lives in lib/threadleak/.
//
// Exit status: 0 nothing leaked, 1 a leak (or deadlock) was found, 2 a usage error, no report
// could be read, or the output could not be written — so a CI step can fail on it.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/report/leak_groups.h"
#include "tools/report/outputs.h"
#include "tools/report/report_input.h"

namespace {

using namespace threadleak::report_tool;

constexpr int kNoLeak = 0, kLeak = 1, kFailure = 2;
constexpr size_t kMaxErrorLines = 10;

void Usage(FILE* out) {
  fputs(
      "usage: threadleak report [--format FORMAT] [-o FILE] [--all] [--source-root DIR] "
      "REPORT...\n"
      "\n"
      "Reads JSON Lines reports written by threadleak (format=json, e.g. reports/tl.*), groups\n"
      "identical threads across processes (same state, same stacks) and writes them. A REPORT\n"
      "that is a directory stands for the files in it (none when nothing leaked).\n"
      "\n"
      "  --format FORMAT     text (default), junit, sarif, github, html or pprof\n"
      "  -o, --output FILE   write there instead of standard output\n"
      "  --all               also threads that are not leaks (dumps, watchdog reports); html\n"
      "                      and pprof always show every thread\n"
      "  --source-root DIR   the checkout the program was built from (default: the current\n"
      "                      directory): SARIF and GitHub paths are made relative to it\n"
      "  --no-graph          html: do not run Graphviz's dot for the wait-for graph\n"
      "  -h, --help          show this help\n"
      "\n"
      "exit status: 0 no leak, 1 a leaked or deadlocked thread was found, 2 a usage error, no\n"
      "report could be read, or the output could not be written\n",
      out);
}

int UsageError(const std::string& message) {
  fprintf(stderr, "threadleak report: error: %s (see threadleak report --help)\n", message.c_str());
  return kFailure;
}

bool WriteOutput(const std::string& path, const std::string& data) {
  int fd = STDOUT_FILENO;
  if (!path.empty() && path != "-") {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      fprintf(stderr, "threadleak report: error: cannot write %s: %s\n", path.c_str(),
              strerror(errno));
      return false;
    }
  }
  bool ok = true;
  for (size_t done = 0; done < data.size();) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fprintf(stderr, "threadleak report: error: writing %s: %s\n",
              path.empty() || path == "-" ? "standard output" : path.c_str(), strerror(errno));
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (fd != STDOUT_FILENO && close(fd) != 0 && ok) {
    fprintf(stderr, "threadleak report: error: writing %s: %s\n", path.c_str(), strerror(errno));
    ok = false;
  }
  return ok;
}

std::string DirectoryWithSlash(const std::string& dir) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(dir, error);
  std::string out = (error ? std::filesystem::path(dir) : absolute.lexically_normal()).string();
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

int Run(int argc, char** argv) {
  std::string format = "text", output, source_root;
  bool everything = false, graph = true;
  std::vector<std::string> inputs;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      inputs.push_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      Usage(stdout);
      return kNoLeak;
    } else if (arg == "--format" || arg == "-f") {
      const char* v = value("--format");
      if (v == nullptr) return UsageError("--format needs a value");
      format = v;
    } else if (arg.rfind("--format=", 0) == 0) {
      format = arg.substr(9);
    } else if (arg == "-o" || arg == "--output") {
      const char* v = value("--output");
      if (v == nullptr) return UsageError(arg + " needs a file");
      output = v;
    } else if (arg.rfind("--output=", 0) == 0) {
      output = arg.substr(9);
    } else if (arg == "--source-root") {
      const char* v = value("--source-root");
      if (v == nullptr) return UsageError("--source-root needs a directory");
      source_root = v;
    } else if (arg.rfind("--source-root=", 0) == 0) {
      source_root = arg.substr(14);
    } else if (arg == "--all") {
      everything = true;
    } else if (arg == "--no-graph") {
      graph = false;
    } else {
      return UsageError("unknown option '" + arg + "'");
    }
  }
  static const char* const kFormats[] = {"text", "junit", "sarif", "github", "html", "pprof"};
  bool known = false;
  for (const char* f : kFormats) known = known || format == f;
  if (!known) {
    return UsageError("unknown format '" + format + "': text, junit, sarif, github, html or pprof");
  }
  if (inputs.empty()) return UsageError("name at least one report file");

  ReadResult read = ReadReportFiles(inputs);
  for (size_t i = 0; i < read.errors.size() && i < kMaxErrorLines; ++i) {
    fprintf(stderr, "threadleak report: warning: %s\n", read.errors[i].c_str());
  }
  if (read.errors.size() > kMaxErrorLines) {
    fprintf(stderr, "threadleak report: warning: … and %zu more problems\n",
            read.errors.size() - kMaxErrorLines);
  }
  if (read.reports.empty() && !read.errors.empty()) {
    fprintf(stderr, "threadleak report: error: no report could be read\n");
    return kFailure;
  }

  if (format == "html" || format == "pprof") everything = true;
  Analysis analysis = Analyze(std::move(read.reports), everything);
  OutputOptions options;
  options.source_root = DirectoryWithSlash(source_root.empty() ? "." : source_root);
  if (!graph) options.dot_program.clear();

  std::string rendered;
  if (format == "text") rendered = RenderText(analysis);
  if (format == "junit") rendered = RenderJunit(analysis);
  if (format == "sarif") rendered = RenderSarif(analysis, options);
  if (format == "github") rendered = RenderGithub(analysis, options);
  if (format == "html") rendered = RenderHtml(analysis, options);
  if (format == "pprof") rendered = RenderPprof(analysis);
  if (!WriteOutput(output, rendered)) return kFailure;
  return analysis.leaked_threads > 0 ? kLeak : kNoLeak;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& error) {
    fprintf(stderr, "threadleak report: error: %s\n", error.what());
    return kFailure;
  }
}
