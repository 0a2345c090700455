// File: gtest_watchdog/stall/fallback_report.h
//
// The report the stall path writes itself, with write(2) only: its first
// line (also the failure message GoogleTest's output gets when the helper
// left none), and the raw report when the helper could not produce the
// symbolized one — every thread with module+offset for each frame, ready for
// addr2line.
#pragma once

#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/snapshot.h"

namespace gtest_watchdog_internal {

// The report's first line, written by the stall path itself. Signal-safe.
// No allocation, no lock.
void WriteHeadline(RawWriter& w, const SnapshotHeader& h);

// The raw report, when the helper could not produce the symbolized one.
// Signal-safe. No allocation, no lock.
void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count);

}  // namespace gtest_watchdog_internal
