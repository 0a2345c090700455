// A user's test binary: one test passes, one hangs until the watchdog's
// limit (run with --gtest_filter to pick one).
#include <gtest/gtest.h>
#include <gtest_watchdog/gtest_watchdog.h>

#include <chrono>
#include <thread>

GTEST_WATCHDOG_TIMEOUT("Consumer.Annotated", std::chrono::seconds(1));

TEST(Consumer, Passes) { EXPECT_EQ(1 + 1, 2); }

TEST(Consumer, Annotated) {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
