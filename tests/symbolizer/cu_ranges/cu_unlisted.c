/* A unit of symbolizer_test_cu_ranges.so (cu_ranges.h). noipa: a real call on a known line. */
#include "tests/symbolizer/cu_ranges/cu_ranges.h"

__attribute__((noipa, visibility("default"))) struct CuSite cu_unlisted_site(CuCaptureFn capture) {
  struct CuSite site;
  site.return_address = capture();
  site.line = __LINE__ - 1;
  return site;
}
