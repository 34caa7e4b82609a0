#include "tools/report/report_input.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace threadleak::report_tool {
namespace {

using nlohmann::json;

// Lenient accessors: a field of the wrong type reads as absent, never throws.
std::string String(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t Integer(const json& object, const char* key, int64_t absent) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : absent;
}
bool Boolean(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}
const json& Array(const json& object, const char* key) {
  static const json empty = json::array();
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : empty;
}

std::vector<Frame> Frames(const json& frames) {
  std::vector<Frame> out;
  if (!frames.is_array()) return out;
  out.reserve(frames.size());
  for (const json& item : frames) {
    if (!item.is_object()) continue;
    Frame frame;
    frame.function = String(item, "function");
    if (frame.function.empty()) frame.function = "??";
    frame.file = String(item, "file");
    frame.line = Integer(item, "line", 0);
    frame.module = String(item, "module");
    if (frame.module.empty()) frame.module = "??";
    frame.build_id = String(item, "build_id");
    std::string offset = String(item, "offset");
    if (!offset.empty()) frame.offset = std::strtoull(offset.c_str(), nullptr, 16);
    frame.inlined = Boolean(item, "inlined");
    frame.runtime = Boolean(item, "runtime");
    out.push_back(std::move(frame));
  }
  return out;
}

Thread ThreadOf(const json& item) {
  Thread thread;
  thread.tid = Integer(item, "tid", 0);
  thread.name = String(item, "name");
  thread.state = String(item, "state");
  thread.object = String(item, "object");
  thread.blocked_ms = Integer(item, "blocked_ms", -1);
  thread.blocked_ms_at_least = Boolean(item, "blocked_ms_at_least");
  thread.syscall = String(item, "syscall");
  thread.main = Boolean(item, "main");
  thread.verdict = String(item, "verdict");
  thread.certainty = String(item, "certainty");
  thread.reason = String(item, "reason");
  for (const json& tid : Array(item, "blocked_by")) {
    if (tid.is_number_integer()) thread.blocked_by.push_back(tid.get<int64_t>());
  }
  thread.test = String(item, "test");
  thread.stack_missing = String(item, "stack_missing");
  thread.stack = Frames(Array(item, "stack"));
  auto creator = item.find("created_by");
  if (creator != item.end() && creator->is_object()) {
    thread.creator_tid = Integer(*creator, "tid", -1);
    thread.creator_name = String(*creator, "name");
    thread.creation = Frames(Array(*creator, "stack"));
  }
  return thread;
}

}  // namespace

bool ParseReportLine(const std::string& line, ProcessReport* report, std::string* error) {
  json document = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    *error = "not JSON (was the report written with format=json?)";
    return false;
  }
  if (!document.is_object() || String(document, "tool") != "threadleak" ||
      !document.contains("threads")) {
    *error = "JSON, but not a threadleak report";
    return false;
  }
  report->pid = Integer(document, "pid", 0);
  report->trigger = String(document, "trigger");
  report->version = String(document, "version");
  for (const json& item : Array(document, "threads")) {
    if (item.is_object()) report->threads.push_back(ThreadOf(item));
  }
  for (const json& item : Array(document, "deadlocks")) {
    if (!item.is_object()) continue;
    Deadlock deadlock;
    for (const json& tid : Array(item, "tids")) {
      if (tid.is_number_integer()) deadlock.tids.push_back(tid.get<int64_t>());
    }
    for (const json& edge : Array(item, "edges")) {
      if (!edge.is_object()) continue;
      deadlock.edges.push_back({Integer(edge, "from", 0), Integer(edge, "to", 0),
                                String(edge, "state"), String(edge, "object")});
    }
    report->deadlocks.push_back(std::move(deadlock));
  }
  return true;
}

namespace {

// The files to read: each path, or the regular files of a directory (not its subdirectories),
// sorted — a CI step can name its reports folder, which is empty when nothing leaked.
std::vector<std::string> ExpandDirectories(const std::vector<std::string>& paths,
                                           std::vector<std::string>* errors) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> inside;
    for (auto it = std::filesystem::directory_iterator(path, error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
      std::error_code ignored;
      if (it->is_regular_file(ignored)) inside.push_back(it->path().string());
    }
    if (error) errors->push_back(path + ": cannot list it: " + error.message());
    std::sort(inside.begin(), inside.end());
    files.insert(files.end(), inside.begin(), inside.end());
  }
  return files;
}

}  // namespace

ReadResult ReadReportFiles(const std::vector<std::string>& paths) {
  ReadResult result;
  for (const std::string& path : ExpandDirectories(paths, &result.errors)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      result.errors.push_back(path + ": cannot read it");
      continue;
    }
    std::string line;
    size_t number = 0, read_here = 0, skipped_here = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line.front() != '{') {
        // Text reports and other log lines between the JSON ones: not errors, only not ours.
        ++skipped_here;
        continue;
      }
      ProcessReport report;
      std::string error;
      if (!ParseReportLine(line, &report, &error)) {
        result.errors.push_back(path + ":" + std::to_string(number) + ": " + error);
        continue;
      }
      report.origin = path + ":" + std::to_string(number);
      result.reports.push_back(std::move(report));
      ++read_here;
    }
    if (in.bad()) {
      result.errors.push_back(path + ": read error after line " + std::to_string(number));
    } else if (read_here == 0 && skipped_here > 0) {
      result.errors.push_back(path + ": no JSON report in it (was it written with format=json?)");
    }
  }
  return result;
}

}  // namespace threadleak::report_tool
