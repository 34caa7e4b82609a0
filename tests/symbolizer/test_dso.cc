// The test modules' code. Functions are noipa so that each stays a real, separate function of a
// known name (no inlining, cloning or merging), and the call to `capture` stays on its line.
#include "tests/symbolizer/test_dso.h"

namespace dso_ns {

__attribute__((noipa)) DsoSite Public(CaptureFn capture) {
  return {capture(), __LINE__};
}

}  // namespace dso_ns

namespace {

__attribute__((noipa)) DsoSite HiddenHelper(CaptureFn capture) {
  return {capture(), __LINE__};
}

}  // namespace

extern "C" __attribute__((visibility("default"))) DsoSite symtest_dso_public(CaptureFn capture) {
  return dso_ns::Public(capture);
}

extern "C" __attribute__((visibility("default"))) DsoSite symtest_dso_hidden(CaptureFn capture) {
  return HiddenHelper(capture);
}
