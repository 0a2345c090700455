// gtest_watchdog_main: a drop-in replacement for GTest::gtest_main.
#include "gtest/gtest.h"
#include "gtest_watchdog/gtest_watchdog.h"

int main(int argc, char** argv) {
  gtest_watchdog::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
