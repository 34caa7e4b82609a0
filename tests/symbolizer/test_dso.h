// The C API of the test modules (symbolizer_test_dso*.so). The test binary never links them: it
// dlopens them, so each module appears after the symbolizer has already read the maps.
#ifndef THREADLEAK_TESTS_SYMBOLIZER_TEST_DSO_H_
#define THREADLEAK_TESTS_SYMBOLIZER_TEST_DSO_H_

#include <cstdint>

struct DsoSite {
  uintptr_t return_address;  // what `capture` returned: a pc inside the module's function
  int line;                  // the line of that call in test_dso.cc
};

// Returns its own return address (the test binary's CaptureReturnAddress).
using CaptureFn = uintptr_t (*)();

// The type of both entry points below.
using DsoEntry = DsoSite (*)(CaptureFn);

extern "C" {
// Calls `capture` from dso_ns::Public(CaptureFn), an exported C++ function.
DsoSite symtest_dso_public(CaptureFn capture);
// Calls `capture` from (anonymous namespace)::HiddenHelper(CaptureFn), a local function; the
// "nosym" build strips its symbol from .symtab, so only the DWARF still names it.
DsoSite symtest_dso_hidden(CaptureFn capture);
}

#endif  // THREADLEAK_TESTS_SYMBOLIZER_TEST_DSO_H_
