// A user's test binary: one test passes, one hangs until the watchdog's
// limit (run with --gtest_filter to pick one), and typed, value-
// parameterised and disabled tests whose CTest names
// gtest_watchdog_discover_tests must give as gtest_discover_tests does.
#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>

#include <chrono>
#include <string>
#include <thread>

GTEST_WATCHDOG_TIMEOUT("Consumer.Annotated", std::chrono::seconds(1));

TEST(Consumer, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(Consumer, Annotated) {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

TEST(Consumer, DISABLED_NotYet) {}

template <typename T>
class Typed : public ::testing::Test {};
using Types = ::testing::Types<int, std::string>;
TYPED_TEST_SUITE(Typed, Types);
TYPED_TEST(Typed, DefaultIsEmpty) { EXPECT_EQ(TypeParam(), TypeParam()); }

class Valued : public ::testing::TestWithParam<int> {};
TEST_P(Valued, IsSmall) { EXPECT_LT(GetParam(), 100); }
INSTANTIATE_TEST_SUITE_P(Numbers, Valued, ::testing::Values(3, 42));
