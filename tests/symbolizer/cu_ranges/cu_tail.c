/* The last unit of symbolizer_test_cu_ranges.so (cu_ranges.h), in .debug_aranges: what makes
 * libdwfl count the code before it, back to address 0, as cu_listed.c's. */
#include "tests/symbolizer/cu_ranges/cu_ranges.h"

__attribute__((noipa, visibility("default"))) int cu_tail(int x) {
  return x + 1;
}
