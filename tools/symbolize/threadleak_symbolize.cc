// threadleak-symbolize: names the frames of threadleak reports written with symbolize=0 (raw
// frames: module path, build-id, offset), on a host that has the binaries or their debug info.
//
//   THREADLEAK_OPTIONS=symbolize=0:format=json:log_path=/tmp/r threadleak -- ./server
//   threadleak-symbolize --binary ./server --debug-dir ./debug /tmp/r.1234
//   threadleak-symbolize --format text < /tmp/r.1234
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "symbolizer/symbolizer.h"
#include "tools/symbolize/offline_report.h"

namespace {

void Usage(std::FILE* out) {
  std::fputs(
      "usage: threadleak-symbolize [OPTIONS] [REPORT...]\n"
      "\n"
      "Names the frames of threadleak JSON reports (JSON Lines, from REPORT files or stdin),\n"
      "raw ones (symbolize=0) included, and writes them to stdout. Other lines pass through.\n"
      "\n"
      "  --binary PATH         a module's file, matched by build-id (by path or file name when\n"
      "                        the module has none); repeatable\n"
      "  --debug-dir DIR       searched like /usr/lib/debug: DIR/.build-id/xx/yyyy.debug and\n"
      "                        DIR/<module dir>/<debuglink>; repeatable\n"
      "  --format json|text    JSON Lines (default), or the text report\n"
      "  --strip-path-prefix P remove P from the start of source file paths\n"
      "  --no-demangle         keep mangled C++ names\n"
      "  --debuginfod          download missing debug info from $DEBUGINFOD_URLS\n"
      "  -h, --help            this text\n",
      out);
}

bool Process(std::istream& in, threadleak::Symbolizer& symbolizer,
             const threadleak::OfflineReportOptions& options) {
  std::string line;
  while (std::getline(in, line)) {
    const std::string out = threadleak::SymbolizeReportLine(line, symbolizer, options);
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return false;
  }
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  threadleak::SymbolizerOptions symbolizer_options;
  threadleak::OfflineReportOptions report_options;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "threadleak-symbolize: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      Usage(stdout);
      return 0;
    } else if (arg == "--binary") {
      symbolizer_options.binaries.push_back(value("--binary"));
    } else if (arg == "--debug-dir") {
      symbolizer_options.debug_dirs.push_back(value("--debug-dir"));
    } else if (arg == "--format") {
      const std::string format = value("--format");
      if (format != "json" && format != "text") {
        std::fprintf(stderr, "threadleak-symbolize: --format is json or text\n");
        return 2;
      }
      report_options.text = format == "text";
    } else if (arg == "--strip-path-prefix") {
      report_options.strip_path_prefix = value("--strip-path-prefix");
    } else if (arg == "--no-demangle") {
      symbolizer_options.demangle = false;
    } else if (arg == "--debuginfod") {
      symbolizer_options.debuginfod = true;
    } else if (arg == "-") {
      inputs.push_back(arg);
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "threadleak-symbolize: unknown option %s\n", arg.c_str());
      Usage(stderr);
      return 2;
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) inputs.push_back("-");

  threadleak::Symbolizer symbolizer(std::move(symbolizer_options));
  int status = 0;
  for (const std::string& input : inputs) {
    if (input == "-") {
      if (!Process(std::cin, symbolizer, report_options)) status = 1;
      continue;
    }
    std::ifstream file(input);
    if (!file) {
      std::fprintf(stderr, "threadleak-symbolize: %s: %s\n", input.c_str(), std::strerror(errno));
      status = 1;
      continue;
    }
    if (!Process(file, symbolizer, report_options)) status = 1;
  }
  if (std::fflush(stdout) != 0) status = 1;
  return status;
}
