// The reachability corpus (programs/corpus.cc), judged at exit and in a live dump: each case's
// named threads must get the certainty and basis below. The README's precision and recall come
// from this table: a thread expected "definite" is a true abandoned one; a "definite" verdict on
// any other thread would be a false proof, which must never happen.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "scripts/dump_request.h"
#include "tests/e2e/support.h"
#include "tests/reachability/skip_if_sanitized.h"

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

struct Expected {
  const char* thread;     // its name
  const char* certainty;  // "definite" or "possible"
  const char* basis;      // "unreachable", "reachable", "state", ...; "a|b": either
  const char* reason;     // a piece of the reason; "a|b": either piece
};

struct Case {
  const char* name;
  std::vector<Expected> threads;
  // Dumps come from threadleak's own thread, which starts with the first pthread_create the
  // shim sees; a program of C11 threads alone (thrd_create calls glibc's pthread_create from
  // inside libc) has none yet.
  bool dumped = true;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const char* const kUnreachable = "no thread that can still run can reach";

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"forgotten_sender", {{"receiver", "definite", "unreachable", kUnreachable}}},
      {"slow_sender", {{"receiver", "possible", "reachable", "reachable from"}}},
      {"forgotten_receiver", {{"sender", "definite", "unreachable", kUnreachable}}},
      {"receiver_in_io", {{"sender", "possible", "reachable", "reachable from"}}},
      {"premature_return", {{"waiter", "definite", "unreachable", kUnreachable}}},
      {"owner_still_in_frame", {{"waiter", "possible", "reachable", "the stack of thread"}}},
      {"timeout", {{"timed", "possible", "state", "time limit"}}},
      {"dropped_worker", {{"worker", "definite", "unreachable", kUnreachable}}},
      {"pool_in_global",
       {{"pool-1", "possible", "reachable", "g_pool"},
        {"pool-2", "possible", "reachable", "g_pool"}}},
      // Woken every 10 ms, the consumer may be caught between two waits (then "possible" by its
      // state, on a loaded machine now and then): never a proof either way.
      {"signalled_slow_consumer",
       {{"consumer", "possible", "reachable|state", "reachable from|left the wait"}},
       /*dumped=*/false},
      {"shared_ptr_cycle", {{"cycle-waiter", "definite", "unreachable", kUnreachable}}},
      {"shared_ptr_held", {{"cycle-waiter", "possible", "reachable", "reachable from"}}},
      {"through_function", {{"fn-waiter", "possible", "reachable", "reachable from"}}},
      {"function_only_in_waiter", {{"fn-waiter", "definite", "unreachable", kUnreachable}}},
      {"through_thread_local", {{"tls-waiter", "possible", "reachable", "reachable from"}}},
      {"own_thread_local", {{"tls-waiter", "definite", "unreachable", kUnreachable}}},
      {"lock_held_by_abandoned",
       {{"holder", "definite", "unreachable", kUnreachable},
        {"locker", "definite", "unreachable", kUnreachable}}},
      {"atomic_wait", {{"atomic-waiter", "definite", "unreachable", kUnreachable}}},
      {"lonely_barrier", {{"barrier", "definite", "unreachable", kUnreachable}}},
      {"join_abandoned",
       {{"joined", "definite", "unreachable", kUnreachable},
        {"joiner", "definite", "unreachable", kUnreachable}}},
      // Waiters given a heap object by threads that have ended: the creators' kept stacks are
      // no thread's, whatever they still hold.
      {"created_by_ended_threads",
       {{"orphan-1", "definite", "unreachable", kUnreachable},
        {"orphan-2", "definite", "unreachable", kUnreachable},
        {"orphan-3", "definite", "unreachable", kUnreachable},
        {"orphan-4", "definite", "unreachable", kUnreachable}}},
      // The program's memory merged into the waiter's stack mapping (the kernel merges adjacent
      // anonymous mappings): a pointer there is the program's, not the blocked thread's stack.
      {"merged_into_stack_holds_pointer",
       {{"merged-waiter", "possible", "reachable", "anonymous memory"}}},
      {"merged_into_stack_abandoned", {{"merged-waiter", "definite", "unreachable", kUnreachable}}},
      // issue 16's service: healthy pool threads next to three leaks made while it runs.
      {"service",
       {{"pool-1", "possible", "reachable", "g_pool"},
        {"pool-2", "possible", "reachable", "g_pool"},
        {"receiver", "definite", "unreachable", kUnreachable},
        {"sender", "definite", "unreachable", kUnreachable},
        {"worker", "definite", "unreachable", kUnreachable}}},
  };
  return cases;
}

const json* ThreadNamed(const json& report, const std::string& name) {
  for (const json& thread : report["threads"]) {
    if (e2e::StringField(thread, "name") == name) return &thread;
  }
  return nullptr;
}

std::string Describe(const json& thread) {
  return e2e::StringField(thread, "certainty") + "/" + e2e::StringField(thread, "basis") + ": " +
         e2e::StringField(thread, "reason");
}

// Whether `actual` is (or, with `piece`, contains) one of the '|'-separated `alternatives`.
bool OneOf(const std::string& actual, const std::string& alternatives, bool piece) {
  std::stringstream list(alternatives);
  for (std::string one; std::getline(list, one, '|');) {
    if (piece ? actual.find(one) != std::string::npos : actual == one) return true;
  }
  return false;
}

void Check(const Case& c, const json& report, bool dump) {
  for (const Expected& e : c.threads) {
    const json* thread = ThreadNamed(report, e.thread);
    ASSERT_NE(thread, nullptr) << e.thread << " not in the report:\n" << e2e::Summarize(report);
    EXPECT_EQ(e2e::StringField(*thread, "certainty"), e.certainty)
        << e.thread << ": " << Describe(*thread);
    EXPECT_TRUE(OneOf(e2e::StringField(*thread, "basis"), e.basis, /*piece=*/false))
        << e.thread << ": " << Describe(*thread);
    EXPECT_TRUE(OneOf(e2e::StringField(*thread, "reason"), e.reason, /*piece=*/true))
        << e.thread << ": " << Describe(*thread);
    if (dump) {  // dumps list live threads; the proven ones are "abandoned"
      const bool definite = std::string(e.certainty) == "definite";
      EXPECT_EQ(e2e::StringField(*thread, "verdict"), definite ? "abandoned" : "alive");
    }
  }
  // No other thread of the case is proven abandoned (its look-alikes and helpers run).
  for (const json& thread : report["threads"]) {
    if (e2e::StringField(thread, "basis") != "unreachable") continue;
    bool expected = false;
    for (const Expected& e : c.threads) {
      expected = expected || (e2e::StringField(thread, "name") == e.thread &&
                              std::string(e.certainty) == "definite");
    }
    EXPECT_TRUE(expected) << "false proof: " << e2e::StringField(thread, "name") << ": "
                          << Describe(thread);
  }
}

class Corpus : public ::testing::TestWithParam<Case> {};

TEST_P(Corpus, AtExit) {
  SKIP_IF_SANITIZED();
  const Case& c = GetParam();
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, c.name},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:linger_ms=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
  EXPECT_EQ(run.exit_status, 66) << run.output;
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.output;
  Check(c, *report, /*dump=*/false);
}

TEST_P(Corpus, InALiveDump) {
  SKIP_IF_SANITIZED();
  const Case& c = GetParam();
  if (!c.dumped) GTEST_SKIP() << "threadleak's thread does not run in a program of C11 threads";
  e2e::TempDir dir;
  const std::string output = dir.path() + "/output.txt";
  pid_t pid = e2e::StartProgram(
      {REACHABILITY_CORPUS, c.name, "--wait"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:leak_scan=1:log_path=" + dir.path() + "/report"}},
      output);
  ASSERT_TRUE(
      e2e::WaitFor([&] { return e2e::ReadWholeFile(output).find("ready") != std::string::npos; },
                   milliseconds(20000)))
      << e2e::ReadWholeFile(output);
  ASSERT_TRUE(threadleak::RequestDump(pid));
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  bool dumped = e2e::WaitFor(
      [&] {
        std::error_code ec;
        for (const auto& t : std::filesystem::directory_iterator(task, ec)) {
          if (e2e::ReadWholeFile(t.path().string() + "/comm") == "threadleak/1\n") return true;
        }
        return false;
      },
      milliseconds(20000));
  kill(pid, SIGKILL);
  e2e::WaitProgram(pid, output);
  ASSERT_TRUE(dumped);
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, pid), &error);
  ASSERT_EQ(reports.size(), 1u) << error;
  Check(c, reports[0], /*dump=*/true);
}

INSTANTIATE_TEST_SUITE_P(Reachability, Corpus, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// watchdog_abandoned=1, no dump asked for: the service's three leaks are reported as soon as
// they are proven, once, and its healthy pool threads never.
TEST(Reachability, WatchdogReportsAbandonedThreadsOfALiveService) {
  SKIP_IF_SANITIZED();
  e2e::TempDir dir;
  const std::string output = dir.path() + "/output.txt";
  pid_t pid =
      e2e::StartProgram({REACHABILITY_CORPUS, "service", "--wait"},
                        {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                         {"THREADLEAK_OPTIONS",
                          "format=json:watchdog_abandoned=1:log_path=" + dir.path() + "/report"}},
                        output);
  ASSERT_TRUE(
      e2e::WaitFor([&] { return e2e::ReadWholeFile(output).find("ready") != std::string::npos; },
                   milliseconds(20000)))
      << e2e::ReadWholeFile(output);
  std::set<std::string> named;
  std::vector<json> reports;
  const std::set<std::string> leaks = {"receiver", "sender", "worker"};
  e2e::WaitFor(
      [&] {
        std::string error;
        reports = e2e::ReadReports(e2e::ReportPath(dir, pid), &error);
        named.clear();
        for (const json& report : reports) {
          for (const json& thread : report["threads"])
            named.insert(e2e::StringField(thread, "name"));
        }
        return std::includes(named.begin(), named.end(), leaks.begin(), leaks.end());
      },
      milliseconds(20000));
  std::this_thread::sleep_for(milliseconds(500));  // a few more looks: nothing new to say
  std::string error;
  reports = e2e::ReadReports(e2e::ReportPath(dir, pid), &error);
  kill(pid, SIGKILL);
  e2e::WaitProgram(pid, output);
  ASSERT_FALSE(reports.empty()) << error << "\n" << e2e::ReadWholeFile(output);
  std::multiset<std::string> all;
  for (const json& report : reports) {
    EXPECT_EQ(report["trigger"], "watchdog");
    for (const json& thread : report["threads"]) {
      all.insert(e2e::StringField(thread, "name"));
      EXPECT_EQ(e2e::StringField(thread, "verdict"), "abandoned") << Describe(thread);
      EXPECT_EQ(e2e::StringField(thread, "basis"), "unreachable") << Describe(thread);
    }
  }
  for (const std::string& name : leaks) EXPECT_EQ(all.count(name), 1u) << name;  // once each
  EXPECT_EQ(all.count("pool-1") + all.count("pool-2"), 0u);
}

// The text dump says it too: an " abandoned: " line under each leak, the count in the summary.
TEST(Reachability, TextDumpListsAbandonedThreads) {
  SKIP_IF_SANITIZED();
  e2e::TempDir dir;
  const std::string output = dir.path() + "/output.txt";
  pid_t pid =
      e2e::StartProgram({REACHABILITY_CORPUS, "service", "--wait"},
                        {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                         {"THREADLEAK_OPTIONS", "leak_scan=1:log_path=" + dir.path() + "/report"}},
                        output);
  ASSERT_TRUE(
      e2e::WaitFor([&] { return e2e::ReadWholeFile(output).find("ready") != std::string::npos; },
                   milliseconds(20000)));
  ASSERT_TRUE(threadleak::RequestDump(pid));
  const std::string path = e2e::ReportPath(dir, pid);
  e2e::WaitFor([&] { return e2e::ReadWholeFile(path).find("SUMMARY") != std::string::npos; },
               milliseconds(20000));
  kill(pid, SIGKILL);
  e2e::WaitProgram(pid, output);
  const std::string text = e2e::ReadWholeFile(path);
  size_t lines = 0;
  for (size_t at = text.find("\n abandoned: "); at != std::string::npos;
       at = text.find("\n abandoned: ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 3u) << text;
  EXPECT_NE(text.find(": 3 abandoned\n"), std::string::npos) << text;
}

// An API check: the thread asking goes on after the report, so its own frames are roots (and the
// report's frames on its stack are not).
TEST(Reachability, ApiCheckCountsTheCallersFrames) {
  SKIP_IF_SANITIZED();
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, "api_check"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:linger_ms=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
  EXPECT_NE(run.output.find("check 2"), std::string::npos) << run.output;
  std::string error;
  std::vector<json> reports = e2e::ReadReports(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_GE(reports.size(), 1u) << error;
  EXPECT_EQ(reports[0]["trigger"], "api");
  const json* receiver = ThreadNamed(reports[0], "receiver");
  const json* held = ThreadNamed(reports[0], "held-receiver");
  ASSERT_NE(receiver, nullptr) << e2e::Summarize(reports[0]);
  ASSERT_NE(held, nullptr) << e2e::Summarize(reports[0]);
  EXPECT_EQ(e2e::StringField(*receiver, "basis"), "unreachable") << Describe(*receiver);
  EXPECT_EQ(e2e::StringField(*held, "basis"), "reachable") << Describe(*held);
  EXPECT_NE(e2e::StringField(*held, "reason").find("(the one making the report)"),
            std::string::npos)
      << Describe(*held);
}

// A program that uses libunwind itself: the libunwind.so.8 threadleak loads for its creation
// stacks is then the program's too, and what the program keeps in it (its list of dynamic
// unwind info, here the only reference to a waiter's condition variable) is reachable. Without
// that reference the waiter is abandoned: libunwind's own stale words (the stack pages it last
// walked) never stand in for one while it is threadleak's alone.
struct UnwinderUser {
  const char* program;
  const char* mode;
  const char* certainty;
  const char* reason;
};

void PrintTo(const UnwinderUser& u, std::ostream* os) {
  *os << u.program << " " << u.mode;
}

class LibunwindUser : public ::testing::TestWithParam<UnwinderUser> {};

TEST_P(LibunwindUser, ItsDataIsTheProgramsWhenTheProgramUsesIt) {
  SKIP_IF_SANITIZED();
  const UnwinderUser& u = GetParam();
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {u.program, u.mode},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:linger_ms=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.output;
  const json* waiter = ThreadNamed(*report, "dyn-waiter");
  ASSERT_NE(waiter, nullptr) << e2e::Summarize(*report);
  EXPECT_EQ(e2e::StringField(*waiter, "certainty"), u.certainty) << Describe(*waiter);
  EXPECT_NE(e2e::StringField(*waiter, "reason").find(u.reason), std::string::npos)
      << Describe(*waiter);
}

INSTANTIATE_TEST_SUITE_P(
    Reachability, LibunwindUser,
    ::testing::Values(
        UnwinderUser{REACHABILITY_UNWINDER_LINKED, "register", "possible", "libunwind"},
        UnwinderUser{REACHABILITY_UNWINDER_DLOPENED, "register", "possible", "libunwind"},
        UnwinderUser{REACHABILITY_UNWINDER_PLUGIN, "register", "possible", "libunwind"},
        UnwinderUser{REACHABILITY_UNWINDER_LINKED, "none", "definite", kUnreachable},
        UnwinderUser{REACHABILITY_UNWINDER_DLOPENED, "none", "definite", kUnreachable},
        UnwinderUser{REACHABILITY_UNWINDER_PLUGIN, "none", "definite", kUnreachable}),
    [](const ::testing::TestParamInfo<UnwinderUser>& info) {
      const std::string program = info.param.program;
      return std::string(program == REACHABILITY_UNWINDER_LINKED     ? "Linked"
                         : program == REACHABILITY_UNWINDER_DLOPENED ? "Dlopened"
                                                                     : "Plugin") +
             (info.param.mode == std::string("register") ? "Registers" : "DoesNot");
    });

// jemalloc preloaded: no walk of its heap; the history-based verdict stays, and says why.
TEST(Reachability, AnotherAllocatorFallsBackWithTheBasisSaid) {
  SKIP_IF_SANITIZED();
  const char* jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  if (!std::filesystem::exists(jemalloc)) GTEST_SKIP() << "libjemalloc2 is not installed";
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, "forgotten_sender"},
      {{"LD_PRELOAD", std::string(THREADLEAK_SHIM_PATH) + ":" + jemalloc},
       {"THREADLEAK_OPTIONS", "format=json:linger_ms=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.output;
  const json* receiver = ThreadNamed(*report, "receiver");
  ASSERT_NE(receiver, nullptr) << e2e::Summarize(*report);
  EXPECT_EQ(e2e::StringField(*receiver, "basis"), "history") << Describe(*receiver);
  EXPECT_NE(e2e::StringField(*receiver, "reason").find("libjemalloc.so.2"), std::string::npos)
      << Describe(*receiver);
}

#ifdef REACHABILITY_SANITIZED
// Under a sanitizer the scan falls back, and says which allocator is in the way.
TEST(Reachability, SanitizedFallsBack) {
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, "forgotten_sender"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS", "format=json:linger_ms=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe() << "\n" << run.output;
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error << "\n" << run.output;
  const json* receiver = ThreadNamed(*report, "receiver");
  ASSERT_NE(receiver, nullptr);
  EXPECT_EQ(e2e::StringField(*receiver, "basis"), "history") << Describe(*receiver);
  EXPECT_NE(e2e::StringField(*receiver, "reason").find("another allocator (libasan"),
            std::string::npos)
      << Describe(*receiver);
}
#endif

// A process with more to read than leak_scan_max_mb: no proof, and the reason says which cap.
TEST(Reachability, TheCapFallsBackWithTheReasonSaid) {
  SKIP_IF_SANITIZED();
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, "forgotten_sender_big_heap"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS",
        "format=json:linger_ms=0:leak_scan_max_mb=4:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe();
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error;
  const json* receiver = ThreadNamed(*report, "receiver");
  ASSERT_NE(receiver, nullptr);
  EXPECT_EQ(e2e::StringField(*receiver, "basis"), "history") << Describe(*receiver);
  EXPECT_NE(e2e::StringField(*receiver, "reason").find("(leak_scan_max_mb)"), std::string::npos)
      << Describe(*receiver);
}

// A 1 GB heap, every block reachable: the scan reads it all and still proves the receiver
// abandoned, within the test's time; with a cap below it, the scan gives up at once and says
// why. Neither crashes nor hangs the program or the report.
TEST(Reachability, AGigabyteHeapIsScannedOrCappedNeverAHang) {
  SKIP_IF_SANITIZED();
  for (const char* cap : {"", ":leak_scan_max_mb=512"}) {
    e2e::TempDir dir;
    const auto start = std::chrono::steady_clock::now();
    e2e::RunResult run =
        e2e::RunProgram({REACHABILITY_CORPUS, "forgotten_sender_1gb_heap"},
                        {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
                         {"THREADLEAK_OPTIONS", std::string("format=json:linger_ms=0") + cap +
                                                    ":log_path=" + dir.path() + "/report"}},
                        dir.path() + "/output.txt", std::chrono::seconds(100));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(run.exited) << cap << ": " << run.Describe() << "\n" << run.output;
    EXPECT_EQ(run.exit_status, 66) << run.output;
    std::string error;
    std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
    ASSERT_TRUE(report.has_value()) << error;
    const json* receiver = ThreadNamed(*report, "receiver");
    ASSERT_NE(receiver, nullptr);
    if (*cap == '\0') {
      EXPECT_EQ(e2e::StringField(*receiver, "basis"), "unreachable") << Describe(*receiver);
    } else {
      EXPECT_EQ(e2e::StringField(*receiver, "basis"), "history") << Describe(*receiver);
      EXPECT_NE(e2e::StringField(*receiver, "reason").find("(leak_scan_max_mb)"), std::string::npos)
          << Describe(*receiver);
    }
    printf("1 GB heap%s: %.1f s for the run\n", cap, seconds);  // for the log, not asserted
  }
}

// leak_scan_max_mb=0: no scan at all, the history's verdicts as before.
TEST(Reachability, ScanCanBeTurnedOff) {
  e2e::TempDir dir;
  e2e::RunResult run = e2e::RunProgram(
      {REACHABILITY_CORPUS, "slow_sender"},
      {{"LD_PRELOAD", THREADLEAK_SHIM_PATH},
       {"THREADLEAK_OPTIONS",
        "format=json:linger_ms=0:leak_scan_max_mb=0:log_path=" + dir.path() + "/report"}},
      dir.path() + "/output.txt");
  ASSERT_TRUE(run.exited) << run.Describe();
  std::string error;
  std::optional<json> report = e2e::ReadReport(e2e::ReportPath(dir, run.pid), &error);
  ASSERT_TRUE(report.has_value()) << error;
  const json* receiver = ThreadNamed(*report, "receiver");
  ASSERT_NE(receiver, nullptr);
  EXPECT_EQ(e2e::StringField(*receiver, "basis"), "history") << Describe(*receiver);
}

}  // namespace
