// Compiled into a test executable that links the CMake target threadleak::gtest (through its
// INTERFACE_SOURCES): installs threadleak's GoogleTest listener before main runs, so tests built
// with gtest_main are checked without a main of their own. It is compiled with the test's own
// GoogleTest headers and flags, so it never mismatches the GoogleTest the test links.
//
// Runs before InitGoogleTest: gtest's listener list exists from the first use of
// UnitTest::GetInstance (every TEST registers itself the same way, during static
// initialization), and the default printer is already in it.
#include "threadleak/gtest.h"

namespace {

__attribute__((unused)) const bool threadleak_listener_installed =
    threadleak::InstallGoogleTestListener();

}  // namespace
