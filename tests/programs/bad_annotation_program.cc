// An annotation with a bad pattern: the program must stop before any test
// runs, naming this file and line.
#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>

#include <chrono>

using namespace std::chrono_literals;

GTEST_WATCHDOG_TIMEOUT("Bad::Pat", 5s);  // @block:bad
TEST(Never, Runs) { FAIL() << "no test may run"; }
