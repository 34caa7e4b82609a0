// threadleak/gtest.h — fail every GoogleTest test that leaves threads running, without editing
// the tests: goleak's VerifyNone, after each test.
//
// The listener marks before each test (threadleak_mark) and checks after it (threadleak_check),
// once the fixture is torn down. If threads the test started are still alive after the grace
// period, the shim writes its usual report and the listener adds a failure to *that* test:
//
//   [ RUN      ] Cache.RefreshesInBackground
//   cache_test.cc:41: Failure
//   Failed
//   threadleak: 1 thread started by this test is still running; the report (trigger "api") is
//   in reports/tl.4242
//   [  FAILED  ] Cache.RefreshesInBackground (12 ms)
//
// Install it with one line in main, after InitGoogleTest:
//
//   int main(int argc, char** argv) {
//     testing::InitGoogleTest(&argc, argv);
//     threadleak::InstallGoogleTestListener();
//     return RUN_ALL_TESTS();
//   }
//
// or, with gtest_main, link the CMake target threadleak::gtest into the test executable: it
// compiles a static initializer that installs the listener before main runs.
//
// What it guarantees:
//   - Without the shim (tests not run under threadleak) nothing is installed and every test
//     runs as before.
//   - Only threads created during the test count: not those of SetUpTestSuite or a global
//     Environment, and not one an earlier test leaked (it failed that test alone).
//   - The failure lands on the test that leaked, in gtest's output and its XML/JSON files. The
//     listener needs no place in the printer's chain: gtest sends OnTestEnd to its listeners in
//     reverse order of installation, and the default printer is installed first, so it prints
//     the test's result after the listener has added the failure. (With --gtest_brief=1 gtest
//     installs its printer later; the failure and the exit status are still reported, the
//     "[  FAILED  ]" line of that test is not.)
//   - Tests run one at a time (gtest's model): a check sees the threads of the process, not of
//     the test, so threads started meanwhile by other code also count.
#ifndef THREADLEAK_GTEST_H_
#define THREADLEAK_GTEST_H_

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "threadleak.h"

namespace threadleak {

namespace gtest_internal {

// Where the shim writes reports, from THREADLEAK_OPTIONS as the shim reads it (key=value pairs
// separated by ':', blanks or ','; the last log_path wins): for the failure message only.
inline std::string ReportDestination() {
  std::string log_path = "stderr";
  if (const char* options = getenv("THREADLEAK_OPTIONS")) {
    std::string text(options);
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find_first_of(": \t\n,", start);
      if (end == std::string::npos) end = text.size();
      std::string pair = text.substr(start, end - start);
      if (pair.compare(0, 9, "log_path=") == 0) log_path = pair.substr(9);
      start = end + 1;
    }
  }
  if (log_path == "stderr" || log_path == "stdout") return "above, on " + log_path;
  return "in " + log_path + "." + std::to_string(getpid());
}

}  // namespace gtest_internal

class GoogleTestListener : public ::testing::EmptyTestEventListener {
 public:
  // `linger_ms`: the grace period for the test's threads (THREADLEAK_LINGER_DEFAULT: the
  // `linger_ms` option, 500 ms unless set). A test that leaves no thread behind never waits.
  explicit GoogleTestListener(int linger_ms = THREADLEAK_LINGER_DEFAULT) : linger_ms_(linger_ms) {}

  void OnTestStart(const ::testing::TestInfo&) override { mark_ = threadleak_mark(); }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    int leaked = threadleak_check(mark_, linger_ms_);
    if (leaked <= 0) return;
    // Still the current test: the failure is recorded in its result, before the printer runs.
    ADD_FAILURE_AT(test.file(), test.line())
        << "threadleak: " << leaked << (leaked == 1 ? " thread" : " threads")
        << " started by this test " << (leaked == 1 ? "is" : "are")
        << " still running; the report (trigger \"api\") is "
        << gtest_internal::ReportDestination();
  }

 private:
  int linger_ms_;
  uint64_t mark_ = 0;
};

// Appends a GoogleTestListener to gtest's listeners (which own it). Does nothing, and returns
// false, without the shim or when called before (so the one-line main and the threadleak::gtest
// target together still check once). Call it from main, or from a static initializer.
inline bool InstallGoogleTestListener(int linger_ms = THREADLEAK_LINGER_DEFAULT) {
  static bool installed = false;
  if (installed || !threadleak_active()) return false;
  installed = true;
  ::testing::UnitTest::GetInstance()->listeners().Append(new GoogleTestListener(linger_ms));
  return true;
}

}  // namespace threadleak

#endif  // THREADLEAK_GTEST_H_
