// Tests whose limits come from every source the watchdog reads: annotations
// below, a config file and flags given by the harness
// (tests/integration/config_test.cc). Each test just takes a known time.
#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace std::chrono_literals;

namespace {

void Take(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

}  // namespace

// An annotated slow test passes under a short default limit; its
// unannotated twin does not.
GTEST_WATCHDOG_TIMEOUT("Annotated.Slow", 5s);
TEST(Annotated, Slow) { Take(1500ms); }
TEST(Unannotated, Slow) { Take(1500ms); }

// The config file's [[override]] beats this annotation.
GTEST_WATCHDOG_TIMEOUT("Overridden.*", std::chrono::minutes(1));
TEST(Overridden, Slow) { Take(1500ms); }

// Zero switches the watchdog off for the matching tests.
GTEST_WATCHDOG_TIMEOUT("Unlimited.*", 0s);
TEST(Unlimited, Slow) { Take(1500ms); }

// Full names of parameterized tests, with a fractional duration type.
GTEST_WATCHDOG_TIMEOUT("Inst/Param.Sleeps/*",
                       std::chrono::duration<double>(4.5));
class Param : public testing::TestWithParam<int> {};
TEST_P(Param, Sleeps) { Take(std::chrono::milliseconds(GetParam())); }
INSTANTIATE_TEST_SUITE_P(Inst, Param, testing::Values(1500));

// In-test control of the running test's deadline.
TEST(Scoped, SlowStretchDoesNotCount) {
  Take(300ms);
  {
    gtest_watchdog::ScopedTimeout slow_part(5s);
    Take(1500ms);
  }
  Take(300ms);  // 0.6 s outside the guard: within the 1 s limit
}
TEST(Scoped, TimeAfterTheStretchStillCounts) {
  Take(300ms);
  {
    gtest_watchdog::ScopedTimeout slow_part(5s);
    Take(500ms);
  }
  Take(1500ms);  // 1.8 s outside the guard: past the 1 s limit
}
TEST(Extended, ByTwoSeconds) {
  gtest_watchdog::ExtendTimeout(2s);
  Take(1500ms);
}

// Whole-run limit: three tests of 0.6 s each.
TEST(Total, First) { Take(600ms); }
TEST(Total, Second) { Take(600ms); }
TEST(Total, Third) { Take(600ms); }

// Death tests of both styles, inside a watched test.
TEST(DeathTests, FastStylePasses) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(std::exit(3), testing::ExitedWithCode(3), "");
}
TEST(DeathTests, ThreadsafeStylePasses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(3), testing::ExitedWithCode(3), "");
}
TEST(DeathTests, ChildTakesTooLong) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Take(3000ms);
        std::exit(3);
      },
      testing::ExitedWithCode(3), "");
}
