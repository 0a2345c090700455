// File: gtest_watchdog/stall/fallback_report.h
//
// The report the stall path writes itself, with write(2) only: its first
// line (also the failure message GoogleTest's output gets when the helper
// left none), and the raw report when the helper could not produce the
// symbolized one — the headline, what can be said for a verdict without the
// helper, then every thread with module+offset for each frame, ready for
// addr2line.
//
// Without the helper there are no symbols, no lock owners, no deadlock
// cycles and no decoded descriptors, so no verdict is decided: the verdict
// line says so, and gives what the kernel told the stall path about the
// thread running the test — its state, the system call it sits in (by name
// for the common ones, with the descriptor's /proc link), and its CPU use
// over the sampling window. For a crash the crash is the verdict: the
// thread, the signal and the address it hit, as module+offset.
#pragma once

#include <cstddef>

#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/snapshot.h"

namespace gtest_watchdog_internal {

// The report's first line, written by the stall path itself. Signal-safe.
// No allocation, no lock.
void WriteHeadline(RawWriter& w, const SnapshotHeader& h);

// The fallback's "[ VERDICT  ] ..." line (see above), newline included.
// Signal-safe. No allocation, no lock (readlink on /proc/self/fd).
void WriteFallbackVerdict(RawWriter& w, const SnapshotHeader& h,
                          const SnapshotThreadIn* threads, int count);

// The raw report, when the helper could not produce the symbolized one.
// Keeps its headline and verdict lines for FallbackFailureMessage.
// Signal-safe. No allocation, no lock.
void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count);

// The failure message for GoogleTest's output when the helper failed: the
// fallback's headline and verdict lines, or null (*size 0) when
// WriteFallback has not run. Signal-safe. No allocation, no lock.
const char* FallbackFailureMessage(size_t* size);

}  // namespace gtest_watchdog_internal
