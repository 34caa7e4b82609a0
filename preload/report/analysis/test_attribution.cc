#include "preload/report/analysis/test_attribution.h"

#include <string.h>

namespace threadleak {

std::string TestOfFunction(std::string_view function) {
  constexpr std::string_view kBody = "_Test::TestBody()";
  size_t body = function.rfind(kBody);
  if (body == std::string_view::npos || body + kBody.size() != function.size()) return "";
  std::string_view class_name = function.substr(0, body);
  size_t scope = class_name.rfind("::");
  if (scope != std::string_view::npos) class_name.remove_prefix(scope + 2);
  // GoogleTest names the class Suite_Name_Test and asks for names without underscores; a
  // parameterized suite's class keeps its prefix ("Prefix/Suite" is not a C++ name: the class is
  // Suite_Name_Test too).
  size_t separator = class_name.find('_');
  if (separator == std::string_view::npos || separator == 0 || separator + 1 == class_name.size()) {
    return "";
  }
  return std::string(class_name.substr(0, separator)) + "." +
         std::string(class_name.substr(separator + 1));
}

std::string CreatingTest(const SymbolizedThread& thread) {
  for (const SourceFrame& frame : thread.creation) {
    if (std::string test = TestOfFunction(frame.function); !test.empty()) return test;
  }
  return "";
}

ThreadTest TestReadAtCreation(const tl_thread& raw) {
  if (raw.test_source == TL_TEST_NONE) return {"", TestSource::kNone};
  if (raw.test_source != TL_TEST_RUNNING && raw.test_source != TL_TEST_INHERITED) return {};
  std::string_view name(raw.test_name, strnlen(raw.test_name, sizeof raw.test_name));
  if (name.empty()) return {};
  return {std::string(name),
          raw.test_source == TL_TEST_RUNNING ? TestSource::kRunning : TestSource::kCreator};
}

const char* TestSourceName(TestSource source) {
  switch (source) {
    case TestSource::kRunning:
      return "gtest";
    case TestSource::kCreator:
      return "creator";
    case TestSource::kStack:
      return "stack";
    case TestSource::kNone:
      return "suite";
    case TestSource::kUnknown:
      break;
  }
  return nullptr;
}

}  // namespace threadleak
