// Which GoogleTest test is running right now, READ from GoogleTest's own state — never asked.
//
// GoogleTest keeps the running test in its singleton, the static `instance` inside
// testing::UnitTest::GetInstance() (a local symbol: in the program's .symtab, or a libgtest*.so's),
// whose impl_ points to a UnitTestImpl holding current_test_suite_ and current_test_info_, next
// to each other in every version since 1.8 (null before the first test, between tests, after
// the last). Asking instead — UnitTest::current_test_info() — would take GoogleTest's mutex inside
// pthread_create (a fork child could wait for it forever), and calling GetInstance() first could
// construct the singleton. So:
//  * the instance's address is looked up once, on the first call, in the ELF symbol tables
//    (elf_symbol.h: system calls only, no loader lock);
//  * impl_ is the word of the instance pointing to an object whose parent_ (the word after its
//    vtable) points back to the instance;
//  * current_test_suite_'s offset in UnitTestImpl is calibrated the first time a call finds a
//    test running: the one pair of words that IsSuiteAndTest accepts (gtest_layout.h). Until
//    then, a call that finds no such pair cannot tell "no test runs" from "a layout not
//    understood" (kNoTestUnconfirmed); once calibrated, it can (kNoTest).
// The test's name is copied at once: GoogleTest deletes its TestInfos in its static destructor,
// before an exit report is made. Every read goes through process_vm_readv: a freed UnitTestImpl
// (a thread created after that destructor) reads as garbage or an error, never a fault, and a
// pair whose names do not read as names is taken for no test known (kUnknown).
//
// Safe in the pthread_create hook: no allocation, no lock (concurrent first calls: one looks the
// symbol up, one scans, the others report kUnknown meanwhile), errno preserved. Costs, once found
// and calibrated, one process_vm_readv per call (three more for the first thread of each test:
// its name). Before calibration, one read of UnitTestImpl's first 2 KiB, and a scan of it only
// when it changed since the last. A program without GoogleTest pays the one lookup.
#ifndef THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_STATE_H_
#define THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_STATE_H_

#include <cstdint>

#include "preload/core/snapshot.h"

namespace threadleak {

struct GoogleTestNow {
  enum Kind : uint32_t {
    kUnknown,            // no GoogleTest found (or stripped), or its state not understood
    kNoTest,             // GoogleTest runs no test (test_suite: the suite being set up, or 0)
    kNoTestUnconfirmed,  // no running test found, the layout not yet confirmed by one
    kTest,               // test_info runs, in test_suite
  };
  Kind kind = kUnknown;
  uintptr_t test_suite = 0;          // testing::TestSuite*
  uintptr_t test_info = 0;           // testing::TestInfo*
  char name[TL_TEST_NAME_LEN] = {};  // kTest: "Suite.Name" (gtest_layout.h ReadTestName)
};

// What GoogleTest is running now, in this process.
GoogleTestNow ReadGoogleTestNow();

// True once a read found a running test: the layout is GoogleTest's, so a read that found none
// (kNoTestUnconfirmed) saw no test running.
bool GoogleTestLayoutConfirmed();

// For tests: forget what was found, and look for the instance at `instance` (0: look it up
// again on the next read).
void ResetGoogleTestStateForTesting(uintptr_t instance);

}  // namespace threadleak

#endif  // THREADLEAK_PRELOAD_TEST_FRAMEWORKS_GTEST_STATE_H_
