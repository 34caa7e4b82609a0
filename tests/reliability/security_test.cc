// Item 6 of issue 8: security. The log file is created fresh — never through a symlink someone
// planted at LOG.PID, never over an existing file, mode 0600 whatever the umask — and in a
// secure-execution process (AT_SECURE: set-user-ID, set-group-ID, file capabilities) the shim
// stays inert, however it got loaded. (Bounded option parsing: bad_input_test.cc and the fuzz
// target in tests/fuzz.)
#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/reliability/harness.h"

namespace reliability {
namespace {

namespace fs = std::filesystem;
using e2e::Field;
using e2e::TempDir;

RunOptions LogTo(const std::string& base) {
  return {.json_to_files = false, .options = "format=json:log_path=" + base};
}

// The report went to stderr after a warning about the log file: nothing was lost.
void ExpectFellBackToStderr(const ScenarioRun& run) {
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  EXPECT_EQ(LinesStartingWith(run.output, "threadleak: warning: cannot create log file").size(), 1u)
      << run.Describe();
  std::vector<json> reports = ReportLinesIn(run.output);
  ASSERT_EQ(reports.size(), 1u) << run.Describe();
  EXPECT_EQ(Field(reports[0], "leaks"), 1);
}

TEST(LogFile, PlantedSymlinkIsNotFollowed) {
  TempDir dir;
  const std::string base = dir.path() + "/report";
  const std::string target = dir.path() + "/victim";  // does not exist: O_CREAT would make it
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LOG_FILES, "symlink", base, target}, LogTo(base));
  ExpectFellBackToStderr(run);
  EXPECT_FALSE(fs::exists(target)) << "the shim created the file the symlink points to";
}

TEST(LogFile, PlantedSymlinkToAnExistingFileLeavesItAlone) {
  TempDir dir;
  const std::string base = dir.path() + "/report";
  const std::string target = dir.path() + "/victim";
  { std::ofstream(target) << "keep me\n"; }
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LOG_FILES, "symlink", base, target}, LogTo(base));
  ExpectFellBackToStderr(run);
  EXPECT_EQ(ReadWholeFile(target), "keep me\n");
}

TEST(LogFile, ExistingFileIsNotClobbered) {
  TempDir dir;
  const std::string base = dir.path() + "/report";
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LOG_FILES, "existing", base}, LogTo(base));
  ExpectFellBackToStderr(run);
  EXPECT_EQ(ReadWholeFile(e2e::ReportPath(dir, run.result.pid)), "precious\n");
}

TEST(LogFile, IsCreatedWithMode0600EvenUnderUmaskZero) {
  TempDir dir;
  ScenarioRun run = RunScenario(dir, {RELIABILITY_LOG_FILES, "umask0"});
  EXPECT_TRUE(run.ExitedWith(kLeakExitCode)) << run.Describe();
  struct stat info = {};
  ASSERT_EQ(stat(e2e::ReportPath(dir, run.result.pid).c_str(), &info), 0) << run.Describe();
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, geteuid());
}

// --- secure execution ------------------------------------------------------------------------

// A set-user-ID-root copy of leaky_child in a directory everyone can enter, run as nobody:
// AT_SECURE is set. Skipped unless this test runs as root with setpriv available.
class SecureExecution : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
      GTEST_SKIP() << "needs root and setpriv(1)";
    }
    fs::permissions(dir_.path(), fs::perms::all, fs::perm_options::add);
    program_ = dir_.path() + "/setuid_child";
    fs::copy_file(RELIABILITY_LEAKY_CHILD, program_);
    ASSERT_EQ(chown(program_.c_str(), 0, 0), 0);
    ASSERT_EQ(chmod(program_.c_str(), 04755), 0);
    if (!NobodyCanExecute(program_)) GTEST_SKIP() << "nobody cannot run " << program_;
  }

  // Runs the setuid copy as nobody with `args`, LD_PRELOAD=`preload` (none if empty), and
  // log_path in the test directory (which nobody could not write, but euid root could).
  ScenarioRun RunSecure(const std::vector<std::string>& args, const std::string& preload) {
    std::vector<std::string> argv = {program_};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options{.preload = !preload.empty(), .preload_value = preload, .as_nobody = true};
    return RunScenario(dir_, argv, options);
  }

  // The shim did nothing: the program's own status, no report anywhere, no word from it.
  void ExpectInert(const ScenarioRun& run) {
    EXPECT_EQ(PrintedValue(run.output, "secure"), "1") << "not a secure execution?\n"
                                                       << run.Describe();
    EXPECT_TRUE(run.ExitedWith(0)) << "the shim acted in a secure-execution process\n"
                                   << run.Describe();
    EXPECT_TRUE(e2e::ReportFiles(dir_).empty()) << "a root-owned report file was created";
    EXPECT_EQ(run.output.find("threadleak"), std::string::npos) << run.Describe();
  }

  TempDir dir_;
  std::string program_;
};

TEST_F(SecureExecution, LoaderIgnoresAPreloadPathAndTheProgramRunsUnwatched) {
  ScenarioRun run = RunSecure({"leak"}, THREADLEAK_SHIM_PATH);
  ExpectInert(run);
}

TEST_F(SecureExecution, ShimLoadedAnywayStaysInert) {
  // dlopen() is not restricted in secure mode; the shim must check AT_SECURE itself (the
  // loader is not its only gate: a copy with the set-user-ID bit in a system directory, or
  // /etc/ld.so.preload, get it loaded too).
  ScenarioRun run = RunSecure({"dlopen", THREADLEAK_SHIM_PATH, "leak"}, "");
  ExpectInert(run);
}

// Where the loader does preload in secure mode: a set-user-ID library in a system directory.
// This installs a file under /usr/lib for a second, so it runs only when asked for:
// THREADLEAK_TEST_SYSTEM_DIRS=1.
TEST_F(SecureExecution, SetUserIdShimInASystemDirectoryStaysInert) {
  const char* opt_in = std::getenv("THREADLEAK_TEST_SYSTEM_DIRS");
  if (opt_in == nullptr || std::string(opt_in) != "1") {
    GTEST_SKIP() << "installs into a system library directory; set THREADLEAK_TEST_SYSTEM_DIRS=1";
  }
  // The directory libc was loaded from is one the loader trusts.
  Dl_info libc_info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&std::exit), &libc_info), 0);
  const fs::path system_dir = fs::canonical(libc_info.dli_fname).parent_path();
  const std::string name = "libthreadleak-reliability-" + std::to_string(getpid()) + ".so";
  const fs::path installed = system_dir / name;
  struct Remove {
    fs::path path;
    ~Remove() {
      std::error_code ignored;
      fs::remove(path, ignored);
    }
  } remove{installed};
  fs::copy_file(THREADLEAK_SHIM_PATH, installed);
  ASSERT_EQ(chmod(installed.c_str(), 04755), 0);
  ScenarioRun run = RunSecure({"leak"}, name);
  ExpectInert(run);
}

}  // namespace
}  // namespace reliability
