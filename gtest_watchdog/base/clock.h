// File: gtest_watchdog/base/clock.h
//
// The one clock the deadlines, the stall path and the report helper share.
#pragma once

#include <cstdint>

namespace gtest_watchdog_internal {

// CLOCK_MONOTONIC in nanoseconds, through the vDSO (no system call).
// Signal-safe.
int64_t MonotonicNowNs();

}  // namespace gtest_watchdog_internal
