#include "preload/report/analysis/test_attribution.h"

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

}  // namespace threadleak
