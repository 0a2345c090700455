// N trivial tests (N from $BENCH_TESTS, default 100,000): the same source
// linked with GTest::gtest_main, with gtest_watchdog_main, and with a
// thread-per-test listener (thread_per_test_main.cc), to show what watching
// every test costs.
#include <gtest/gtest.h>

#include <cstdlib>

namespace {
int TestCount() {
  const char* n = std::getenv("BENCH_TESTS");
  return n != nullptr ? std::atoi(n) : 100000;
}
}  // namespace

class Trivial : public testing::TestWithParam<int> {};
TEST_P(Trivial, Passes) { EXPECT_GE(GetParam(), 0); }
INSTANTIATE_TEST_SUITE_P(Many, Trivial, testing::Range(0, TestCount()));
