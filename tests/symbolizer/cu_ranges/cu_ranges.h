/* The C API of symbolizer_test_cu_ranges.so, a module of four compilation units in link order,
 * the layout of a Go program with cgo in miniature:
 *   cu_unlisted.c  its DWARF kept, its .debug_aranges removed (Go's linker writes none for Go's
 *                  units);
 *   cu_no_debug.c  no DWARF;
 *   cu_listed.c    in .debug_aranges, with a function --gc-sections removes, whose arange and line
 *                  table sequence stay at address 0 (as in the C units of a Go program);
 *   cu_tail.c      in .debug_aranges.
 * libdwfl counts the code between two aranges as the first one's: that of the first two units as
 * cu_listed.c's, from its arange at 0, and took the line before the address in cu_listed.c's line
 * table — every runtime.* frame of a Go program with cgo showed /_/runtime/cgo/gcc_mmap.c:37. */
#ifndef THREADLEAK_TESTS_SYMBOLIZER_CU_RANGES_CU_RANGES_H_
#define THREADLEAK_TESTS_SYMBOLIZER_CU_RANGES_CU_RANGES_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct CuSite {
  uintptr_t return_address; /* what `capture` returned: a pc inside the unit's function */
  int line;                 /* the line of that call in the unit's source */
};

typedef uintptr_t (*CuCaptureFn)(void);
typedef struct CuSite (*CuEntry)(CuCaptureFn capture);

struct CuSite cu_listed_site(CuCaptureFn capture);
struct CuSite cu_unlisted_site(CuCaptureFn capture);
struct CuSite cu_no_debug_site(CuCaptureFn capture);
int cu_tail(int x);

#ifdef __cplusplus
}
#endif

#endif /* THREADLEAK_TESTS_SYMBOLIZER_CU_RANGES_CU_RANGES_H_ */
