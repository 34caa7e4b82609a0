// Compile-only: threadleak.h and threadleak/gtest.h under strict C++ warnings (tests/api's
// CMakeLists.txt adds -Werror with -Wpedantic, -Wold-style-cast, ...). A user's -Werror must
// never trip on our headers.
#include "threadleak.h"
#include "threadleak/gtest.h"

namespace {

[[maybe_unused]] int UseEverything() {
  uint64_t mark = threadleak_mark();
  int leaked = threadleak_check(mark) + threadleak_check(mark, 0);
  threadleak::GoogleTestListener listener(10);
  return leaked + threadleak_active() + threadleak_dump(-1);
}

}  // namespace
