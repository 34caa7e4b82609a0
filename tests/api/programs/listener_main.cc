// The one-line way to install the listener: in main, after InitGoogleTest.
#include <gtest/gtest.h>

#include "threadleak/gtest.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  threadleak::InstallGoogleTestListener();
  return RUN_ALL_TESTS();
}
