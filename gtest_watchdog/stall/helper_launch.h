// File: gtest_watchdog/stall/helper_launch.h
//
// Starting the report helper from the stall path: this same executable,
// re-executed with posix_spawn (never fork()) with the file actions and the
// environment Prepare() made, permitted to ptrace us while it runs, told to
// go over one pipe and heard from over another, and waited for with a
// deadline.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace gtest_watchdog_internal {

// Where the helper finds the snapshot (after stdin/stdout/stderr); its other
// descriptors are in dump/helper_protocol.h. Signal-safe.
constexpr int kSnapshotFd = 3;

// Starts the report helper, before the snapshot exists: it checks its
// caller and sets its symbolizer up meanwhile, then waits for the go byte
// RunHelper sends. False if it could not be started (no file actions, no
// snapshot memfd or go pipe, posix_spawn failed); RunHelper then reports
// that. Once started, the dead-man timer kills it if the report hangs.
// Signal-safe. No allocation (posix_spawn maps its child's stack with
// mmap), no lock; everything it passes — file actions, argv, the
// environment copy — was prepared before.
bool StartHelper();

// Hands the written snapshot to the helper StartHelper started (starting it
// now if that was not done): permits it to ptrace us, sends the go byte,
// and waits for it. True if it said the report is complete (or exited 0).
// False if it could not start, ended without a report, or passed
// `deadline_ns` (it is killed then). Signal-safe, as StartHelper.
bool RunHelper(int64_t deadline_ns);

// The helper's pid once RunHelper started it (it stays set after the helper
// ended), 0 before: never stopped with the test's children. Signal-safe.
pid_t HelperPid();

// Whether the helper said the report is complete and stays, to kill the
// test's stopped children once we are gone. Signal-safe.
bool HelperStays();

// Sends the pids of the test's stopped children to a helper that stays; if
// they cannot all be sent, it no longer counts as staying (HelperStays), and
// the stall path kills them itself. Signal-safe.
void HandChildrenToHelper(const pid_t* pids, int n);

}  // namespace gtest_watchdog_internal
