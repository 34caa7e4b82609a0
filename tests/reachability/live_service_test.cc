// issue 16, "done when" 1, end to end: a running server (programs/leaky_server.cc) with a healthy
// pool, leaking threads on request the three ways services do. Under `threadleak dump` with
// leak_scan=1 the three leaks are listed as abandoned and the pool's threads are not; with
// watchdog_abandoned=1 the same is reported with no dump asked for, and a leak made later is
// reported as soon as it is made.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/support.h"
#include "tests/reachability/skip_if_sanitized.h"

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Sends one command to the server and waits for its "done".
bool Request(const std::string& socket_path, const std::string& command) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) close(fd);
    return false;
  }
  const std::string line = command + "\n";
  char reply[16] = {};
  const bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  read(fd, reply, sizeof reply - 1) > 0 && std::string(reply) == "done\n";
  close(fd);
  return ok;
}

struct Server {
  e2e::TempDir dir;
  std::string output = dir.path() + "/output.txt";
  std::string socket = dir.path() + "/socket";
  pid_t pid = -1;

  explicit Server(const std::vector<std::string>& options) {
    std::vector<std::string> argv = {REACHABILITY_WRAPPER, "--json", "--log-path",
                                     dir.path() + "/report"};
    for (const std::string& o : options) argv.insert(argv.end(), {"-o", o});
    argv.insert(argv.end(), {"--", REACHABILITY_LEAKY_SERVER, socket});
    pid = e2e::StartProgram(argv, {{"LD_PRELOAD", std::nullopt}}, output);
  }
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      e2e::WaitProgram(pid, output);
    }
  }
  bool Ready() {
    return e2e::WaitFor(
        [&] { return e2e::ReadWholeFile(output).find("ready") != std::string::npos; },
        milliseconds(20000));
  }
  // Healthy jobs, then one leak of each kind.
  bool MakeLeaks() {
    for (const char* command : {"work", "work", "work", "subscribe", "publish", "spawn"}) {
      if (!Request(socket, command)) return false;
    }
    return true;
  }
  std::vector<json> Reports() {
    std::string error;
    return e2e::ReadReports(e2e::ReportPath(dir, pid), &error);
  }
};

const char* const kLeaks[] = {"subscriber", "publisher", "dropped-worker"};
const char* const kPool[] = {"pool-1", "pool-2", "pool-3"};

std::string DescribeVerdict(const json& thread) {
  return e2e::StringField(thread, "name") + ": " + e2e::StringField(thread, "verdict") + " " +
         e2e::StringField(thread, "certainty") + "/" + e2e::StringField(thread, "basis") + ": " +
         e2e::StringField(thread, "reason");
}

TEST(LiveService, DumpListsTheAbandonedThreadsAndNotThePool) {
  SKIP_IF_SANITIZED();
  Server server({"leak_scan=1"});
  ASSERT_TRUE(server.Ready()) << e2e::ReadWholeFile(server.output);
  ASSERT_TRUE(server.MakeLeaks()) << e2e::ReadWholeFile(server.output);
  e2e::TempDir dump_dir;
  e2e::RunResult dump = e2e::RunProgram({REACHABILITY_WRAPPER, "dump", std::to_string(server.pid)},
                                        {}, dump_dir.path() + "/dump.txt");
  ASSERT_TRUE(dump.exited && dump.exit_status == 0) << dump.Describe() << dump.output;
  json report;
  for (std::istringstream lines(dump.output); !lines.eof();) {
    std::string line;
    std::getline(lines, line);
    if (!line.empty() && line[0] == '{') report = json::parse(line, nullptr, false);
  }
  ASSERT_TRUE(report.is_object()) << dump.output;
  std::map<std::string, const json*> by_name;
  size_t abandoned = 0;
  for (const json& thread : report["threads"]) {
    by_name[e2e::StringField(thread, "name")] = &thread;
    if (e2e::StringField(thread, "verdict") == "abandoned") ++abandoned;
  }
  for (const char* name : kLeaks) {
    ASSERT_EQ(by_name.count(name), 1u) << name << "\n" << dump.output;
    EXPECT_EQ(e2e::StringField(*by_name[name], "verdict"), "abandoned")
        << DescribeVerdict(*by_name[name]);
    EXPECT_EQ(e2e::StringField(*by_name[name], "basis"), "unreachable")
        << DescribeVerdict(*by_name[name]);
  }
  for (const char* name : kPool) {
    ASSERT_EQ(by_name.count(name), 1u) << name << "\n" << dump.output;
    EXPECT_EQ(e2e::StringField(*by_name[name], "verdict"), "alive")
        << DescribeVerdict(*by_name[name]);
    EXPECT_NE(e2e::StringField(*by_name[name], "reason").find("g_pool"), std::string::npos)
        << DescribeVerdict(*by_name[name]);
  }
  EXPECT_EQ(abandoned, 3u) << dump.output;  // nothing else: not the acceptor, not the pool
}

TEST(LiveService, WatchdogReportsEachLeakOnceWithoutADumpAndNeverThePool) {
  SKIP_IF_SANITIZED();
  Server server({"watchdog_abandoned=1"});
  ASSERT_TRUE(server.Ready()) << e2e::ReadWholeFile(server.output);
  ASSERT_TRUE(server.MakeLeaks()) << e2e::ReadWholeFile(server.output);
  auto names = [&] {
    std::multiset<std::string> out;
    for (const json& report : server.Reports()) {
      EXPECT_EQ(report["trigger"], "watchdog");
      for (const json& thread : report["threads"]) {
        out.insert(e2e::StringField(thread, "name"));
        EXPECT_EQ(e2e::StringField(thread, "verdict"), "abandoned") << DescribeVerdict(thread);
      }
    }
    return out;
  };
  auto reported = [&](const std::string& name, size_t times) {
    return e2e::WaitFor([&] { return names().count(name) == times; }, milliseconds(20000));
  };
  for (const char* name : kLeaks) EXPECT_TRUE(reported(name, 1)) << name;
  // A leak made while it runs is reported too, as soon as the watchdog looks again.
  ASSERT_TRUE(Request(server.socket, "subscribe"));
  EXPECT_TRUE(reported("subscriber", 2));
  std::this_thread::sleep_for(milliseconds(600));  // more looks: nothing new to say
  const std::multiset<std::string> all = names();
  EXPECT_EQ(all.count("subscriber"), 2u);
  EXPECT_EQ(all.count("publisher"), 1u);
  EXPECT_EQ(all.count("dropped-worker"), 1u);
  for (const char* name : kPool) EXPECT_EQ(all.count(name), 0u) << name;
  EXPECT_EQ(all.size(), 4u);
}

}  // namespace
