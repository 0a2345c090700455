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

// Its limit grows while it runs: only the outer timeout
// gtest_watchdog_discover_tests passes keeps CTest from killing it first.
TEST(Consumer, Stretched) {
  gtest_watchdog::ScopedTimeout stretch(std::chrono::hours(1));
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

template <typename T>
class Typed : public ::testing::Test {};
using Types = ::testing::Types<int, std::string>;
TYPED_TEST_SUITE(Typed, Types);
TYPED_TEST(Typed, DefaultIsEmpty) { EXPECT_EQ(TypeParam(), TypeParam()); }

class Valued : public ::testing::TestWithParam<int> {};
TEST_P(Valued, IsSmall) { EXPECT_LT(GetParam(), 100); }
INSTANTIATE_TEST_SUITE_P(Numbers, Valued, ::testing::Values(3, 42));

// Parameters whose printed values CTest names must survive.
class Odd : public ::testing::TestWithParam<std::string> {};
TEST_P(Odd, IsNotEmpty) { EXPECT_FALSE(GetParam().empty()); }
INSTANTIATE_TEST_SUITE_P(Strings, Odd,
                         ::testing::Values("a;b", "x[y", "p]q", "say \"hi\"",
                                           "back\\slash", "a\nb",
                                           "#hash $dollar ]=] end"));
