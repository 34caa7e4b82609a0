// Which GoogleTest test a thread belongs to, with no change to the program. First what the shim
// read from GoogleTest's state when the thread was created (tl_thread::test_source: the test
// running then, or its creator's, or none — suite-level; preload/test_frameworks/gtest_state.h).
// When the shim read nothing, a creation stack that passes through `Suite_Name_Test::TestBody()`
// names test `Suite.Name`.
#ifndef THREADLEAK_PRELOAD_REPORT_ANALYSIS_TEST_ATTRIBUTION_H_
#define THREADLEAK_PRELOAD_REPORT_ANALYSIS_TEST_ATTRIBUTION_H_

#include <string>
#include <string_view>

#include "preload/report/symbolized_thread.h"

namespace threadleak {

// "Suite.Name" for a function "ns::Suite_Name_Test::TestBody()", else "".
std::string TestOfFunction(std::string_view function);

// The test whose body is in the creation stack (innermost first wins), or "".
std::string CreatingTest(const SymbolizedThread& thread);

// Where a thread's test comes from; the names are JSON's "test_source" values.
enum class TestSource {
  kUnknown,  // null: nothing known
  kRunning,  // "gtest": GoogleTest ran it when the thread was created
  kCreator,  // "creator": no test ran then; the test of the thread that created it
  kStack,    // "stack": its body is in the creation stack (GoogleTest's state was not read)
  kNone,     // "suite": no test ran then, nor had its creator one (suite-level)
};
const char* TestSourceName(TestSource source);  // null for kUnknown

struct ThreadTest {
  std::string test;  // "Suite.Name", or "" (kNone, kUnknown)
  TestSource source = TestSource::kUnknown;
};

// What the shim read of GoogleTest's state when the thread was created (tl_thread::test_source,
// test_name): the test, where it comes from; kUnknown when it read nothing usable.
ThreadTest TestReadAtCreation(const tl_thread& raw);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_TEST_ATTRIBUTION_H_
