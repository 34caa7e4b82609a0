// Which GoogleTest test created a thread, with no change to the program: a creation stack that
// passes through `Suite_Name_Test::TestBody()` was created by test `Suite.Name`.
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

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_REPORT_ANALYSIS_TEST_ATTRIBUTION_H_
