#include "gtest_watchdog/base/clock.h"

#include <time.h>

namespace gtest_watchdog_internal {

int64_t MonotonicNowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace gtest_watchdog_internal
