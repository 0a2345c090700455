// 100,000 trivial tests: the same source linked with GTest::gtest_main and
// with gtest_watchdog_main, to show that watching every test costs nothing.
#include <gtest/gtest.h>

class Trivial : public testing::TestWithParam<int> {};
TEST_P(Trivial, Passes) { EXPECT_GE(GetParam(), 0); }
INSTANTIATE_TEST_SUITE_P(Many, Trivial, testing::Range(0, 100000));
