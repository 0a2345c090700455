// An annotation with a negative duration: stop before any test runs.
#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>

#include <chrono>

GTEST_WATCHDOG_TIMEOUT("Never.*", std::chrono::milliseconds(-5));
TEST(Never, Runs) { FAIL() << "no test may run"; }
