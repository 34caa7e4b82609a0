// Staging mode (staging=1, the wrapper's --staging): the exit report is still written, but the
// exit status stays the program's. The default (test-run) mode is unchanged. Services stopped
// with SIGTERM (redis-server, memcached) end as they do without the tool.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "runtimes_support.h"

namespace runtimes {
namespace {

using e2e::Field;
using e2e::StringField;

bool ReportsOwnLeak(const std::optional<json>& report) {
  if (!report) return false;
  std::vector<json> leaked = Leaked(*report);
  return leaked.size() == 1 && StringField(leaked[0], "name") == "own-leak";
}

struct StagingCase {
  const char* how;  // staging_exit's first argument
  const char* status;
  const char* options;
  int expected;
};

class StagingExit : public ::testing::TestWithParam<StagingCase> {};

TEST_P(StagingExit, ReportIsWrittenAndTheStatusIsAsExpected) {
  const StagingCase& c = GetParam();
  e2e::TempDir dir;
  Outcome outcome = RunUnderShim({STAGING_EXIT, c.how, c.status}, dir, c.options);
  EXPECT_TRUE(outcome.run.exited) << outcome.run.Describe();
  EXPECT_EQ(outcome.run.exit_status, c.expected) << outcome.run.output;
  EXPECT_TRUE(ReportsOwnLeak(outcome.report))
      << (outcome.report ? e2e::Summarize(*outcome.report) : "no report");
  EXPECT_NE(outcome.run.output.find("started"), std::string::npos) << outcome.run.output;
}

INSTANTIATE_TEST_SUITE_P(
    Modes, StagingExit,
    ::testing::Values(StagingCase{"return", "0", "", 66},  // test-run mode: the leak status
                      StagingCase{"return", "0", "staging=0", 66},
                      StagingCase{"return", "0", "staging=1", 0},
                      StagingCase{"exit", "0", "staging=1", 0},
                      StagingCase{"exit", "7", "staging=1", 7},
                      StagingCase{"exit", "7", "", 7},  // a failing status is kept in both
                      StagingCase{"exit", "0", "staging=1:exitcode=3", 0}),
    [](const auto& info) {
      std::string name = std::string(info.param.how) + info.param.status + "_" +
                         (*info.param.options ? info.param.options : "default");
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

// A program stopped with SIGTERM whose handler calls exit(), as memcached's does.
TEST(StagingMode, SigtermHandlerCallingExitKeepsItsStatus) {
  for (const char* options : {"staging=1", ""}) {
    e2e::TempDir dir;
    e2e::EnvChanges env = {
        {"LD_PRELOAD", THREADLEAK_SHIM_PATH},
        {"THREADLEAK_OPTIONS", "format=json:log_path=" + dir.path() + "/report:" + options}};
    pid_t pid = e2e::StartProgram({STAGING_EXIT, "sigterm", "0"}, env, dir.path() + "/out.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);
    e2e::RunResult run = e2e::WaitProgram(pid, dir.path() + "/out.txt");
    EXPECT_EQ(run.exit_status, *options ? 0 : 66) << options << ": " << run.output;
    std::string error;
    EXPECT_TRUE(ReportsOwnLeak(e2e::ReadReport(e2e::ReportPath(dir, pid), &error))) << error;
  }
}

TEST(StagingMode, WrapperFlagKeepsTheProgramsStatus) {
  e2e::TempDir dir;
  std::string log = dir.path() + "/report";
  e2e::RunResult run = e2e::RunProgram(
      {WRAPPER, "--staging", "--json", "--log-path", log, "--", STAGING_EXIT, "return", "0"}, {},
      dir.path() + "/out.txt");
  EXPECT_EQ(run.exit_status, 0) << run.output;
  std::string error;
  EXPECT_TRUE(ReportsOwnLeak(e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error))) << error;
  e2e::RunResult help = e2e::RunProgram({WRAPPER, "--help"}, {}, dir.path() + "/help.txt");
  EXPECT_NE(help.output.find("--staging"), std::string::npos) << help.output;
}

// --- services stopped with SIGTERM -------------------------------------------------------------

// A TCP port nobody listens on now (the kernel picks it).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool Listening(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}

// Starts argv (with `port` in it), waits until it listens, stops it with SIGTERM.
e2e::RunResult RunServiceUntilSigterm(const std::vector<std::string>& argv, int port,
                                      const e2e::EnvChanges& env, const std::string& output) {
  pid_t pid = e2e::StartProgram(argv, env, output);
  for (int i = 0; i < 100 && !Listening(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // every thread started
  kill(pid, SIGTERM);
  return e2e::WaitProgram(pid, output, std::chrono::seconds(20));
}

struct Service {
  const char* binary;
  std::vector<std::string> (*argv)(const std::string& path, int port);
};

class ServiceUnderStaging : public ::testing::TestWithParam<Service> {};

TEST_P(ServiceUnderStaging, StoppedWithSigtermExitsAsWithoutTheTool) {
  std::string path = FindInPath(GetParam().binary);
  if (path.empty()) GTEST_SKIP() << GetParam().binary << " is not installed";
  e2e::TempDir dir;
  int port = FreePort();
  e2e::RunResult plain = RunServiceUntilSigterm(
      GetParam().argv(path, port), port, {{"LD_PRELOAD", std::nullopt}}, dir.path() + "/plain.txt");
  ASSERT_TRUE(plain.exited) << plain.Describe() << "\n" << plain.output;

  port = FreePort();
  std::vector<std::string> argv = {
      WRAPPER, "--staging", "--json", "--log-path", dir.path() + "/report", "--"};
  for (const std::string& arg : GetParam().argv(path, port)) argv.push_back(arg);
  e2e::RunResult staged =
      RunServiceUntilSigterm(argv, port, {{"LD_PRELOAD", std::nullopt}}, dir.path() + "/out.txt");
  EXPECT_TRUE(staged.exited) << staged.Describe() << "\n" << staged.output;
  EXPECT_EQ(staged.exit_status, plain.exit_status) << staged.output;
  // The dumps are the point of staging: the service's threads are in the report.
  std::string error;
  auto report = e2e::ReadReport(e2e::ReportPath(dir, staged.pid), &error);
  ASSERT_TRUE(report) << error << "\n" << staged.output;
  EXPECT_GT(Leaked(*report).size(), 0u) << e2e::Summarize(*report);
}

std::vector<std::string> RedisArgv(const std::string& path, int port) {
  return {path,           "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "no",     "--daemonize",        "no"};
}

std::vector<std::string> MemcachedArgv(const std::string& path, int port) {
  std::vector<std::string> argv = {path, "-p", std::to_string(port), "-U", "0", "-l", "127.0.0.1"};
  if (geteuid() == 0) argv.insert(argv.end(), {"-u", "root"});  // memcached refuses root without
  return argv;
}

INSTANTIATE_TEST_SUITE_P(Services, ServiceUnderStaging,
                         ::testing::Values(Service{"redis-server", RedisArgv},
                                           Service{"memcached", MemcachedArgv}),
                         [](const auto& info) {
                           return std::string(info.param.binary) == "memcached" ? "Memcached"
                                                                                : "Redis";
                         });

}  // namespace
}  // namespace runtimes
