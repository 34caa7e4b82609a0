#include "support.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace e2e {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ChildEnvironment(const EnvChanges& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (changes.count(name) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : changes) {
    if (value) env.push_back(name + "=" + *value);
  }
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string FunctionsOf(const nlohmann::json& stack) {
  if (!stack.is_array()) return "<no stack>";
  std::string out;
  for (const nlohmann::json& frame : stack) {
    if (!out.empty()) out += " < ";
    const nlohmann::json& function = Field(frame, "function");
    out += function.is_string() ? function.get<std::string>() : function.dump();
  }
  return "[" + out + "]";
}

}  // namespace

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tl-e2e-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string RunResult::Describe() const {
  if (timed_out) return "timed out";
  if (exited) return "exit " + std::to_string(exit_status);
  return "signal " + std::to_string(signal);
}

pid_t StartProgram(const std::vector<std::string>& argv, const EnvChanges& env,
                   const std::string& output_path) {
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = ChildEnvironment(env);
  std::vector<char*> c_args = CStrings(args);
  std::vector<char*> c_envs = CStrings(envs);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, c_args[0], &actions, &attr, c_args.data(), c_envs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  }
  return pid;
}

RunResult WaitProgram(pid_t pid, const std::string& output_path,
                      std::chrono::milliseconds timeout) {
  RunResult result;
  result.pid = pid;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(result.pid, &status, WNOHANG);
    if (done == result.pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      kill(-result.pid, SIGKILL);
      waitpid(result.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!result.timed_out) {
    result.exited = WIFEXITED(status);
    if (result.exited) result.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
      result.core_dumped = WCOREDUMP(status);
    }
  }
  result.output = ReadWholeFile(output_path);
  return result;
}

RunResult RunProgram(const std::vector<std::string>& argv, const EnvChanges& env,
                     const std::string& output_path, std::chrono::milliseconds timeout) {
  return WaitProgram(StartProgram(argv, env, output_path), output_path, timeout);
}

std::vector<nlohmann::json> ReadReports(const std::string& path, std::string* error) {
  std::vector<nlohmann::json> reports;
  std::istringstream lines(ReadWholeFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json report = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (report.is_discarded()) {
      *error = "not JSON: " + line.substr(0, 200);
      return {};
    }
    reports.push_back(std::move(report));
  }
  if (reports.empty()) *error = "no report in " + path;
  return reports;
}

RunResult RunUnderShim(const std::string& shim, const std::vector<std::string>& argv,
                       const TempDir& dir) {
  const EnvChanges env = {
      {"LD_PRELOAD", shim},
      {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report"},
  };
  return RunProgram(argv, env, dir.path() + "/output.txt");
}

std::string ReportPath(const TempDir& dir, pid_t pid) {
  return dir.path() + "/report." + std::to_string(pid);
}

std::vector<std::string> ReportFiles(const TempDir& dir) {
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir.path())) {
    if (entry.path().filename().string().rfind("report.", 0) == 0) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<nlohmann::json> ReadReport(const std::string& path, std::string* error) {
  if (!fs::exists(path)) {
    *error = "no report file " + path;
    return std::nullopt;
  }
  std::string text = ReadWholeFile(path);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.empty() || text.find('\n') != std::string::npos) {
    *error = "the report is not one line of JSON: <<" + text + ">>";
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    *error = std::string("the report is not JSON (") + e.what() + "): <<" + text + ">>";
    return std::nullopt;
  }
}

std::string StringField(const nlohmann::json& obj, const char* key) {
  const nlohmann::json& value = Field(obj, key);
  return value.is_string() ? value.get<std::string>() : "";
}

const nlohmann::json& Field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  const auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

const nlohmann::json* FindFrame(const nlohmann::json& stack, std::string_view needle) {
  if (!stack.is_array()) return nullptr;
  for (const nlohmann::json& frame : stack) {
    if (StringField(frame, "function").find(needle) != std::string::npos) return &frame;
  }
  return nullptr;
}

bool StackHasFunction(const nlohmann::json& stack, std::string_view needle) {
  return FindFrame(stack, needle) != nullptr;
}

std::string Summarize(const nlohmann::json& report) {
  std::ostringstream out;
  const auto threads = report.find("threads");
  if (threads == report.end() || !threads->is_array()) return "<report without threads>";
  for (const nlohmann::json& t : *threads) {
    const nlohmann::json& created = Field(t, "created_by");
    out << "  tid " << Field(t, "tid") << " " << Field(t, "name") << " state=" << Field(t, "state")
        << " verdict=" << Field(t, "verdict") << "\n    stack " << FunctionsOf(Field(t, "stack"))
        << "\n    created_by tid " << Field(created, "tid") << " "
        << FunctionsOf(Field(created, "stack")) << "\n";
  }
  return out.str();
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace e2e
