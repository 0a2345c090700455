// File: gtest_watchdog/stall/exit_guard.h
//
// The stall path and exit(). exit() destroys GoogleTest's objects: UnitTest
// is a function-local static, and with it go every TestSuite and TestInfo
// the board may still point at (a test that called exit() mid-test, a static
// destructor that hangs, a crash while they run). OnExitStarts, registered
// with atexit() in Prepare() — after GoogleTest made them, so it runs before
// their destructors — copies the names of the phase running at that moment;
// from then on the stall path uses only that copy and leaves GoogleTest
// alone. (A report whose first step raced the start of exit() may still read
// them; that window is a few instructions wide.)
#pragma once

#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

// Whether OnExitStarts ran: the program is exiting, and GoogleTest's
// objects are about to be destroyed. Signal-safe.
bool ExitStarted();

// The report is out (called before a signal is handed back): an exit()
// after that is the program's own business (a previous handler may exit on
// purpose); one before it would destroy what the report still reads, and
// waits in OnExitStarts. Signal-safe.
void MarkReportDone();

// "Suite.Name" into buf. Reads gtest's std::string members via c_str():
// no allocation, no lock, as far as the objects are alive: until exit()
// starts (see ExitStarted); from then on only the names copied then, for the
// phase that ran then, are used. Signal-safe.
void DescribeSubject(const ArmedPhase& a, char (&test)[1024],
                     char (&suite)[512]);

// atexit hook, first of the exit handlers registered before it ran (see the
// top of this file): copies the running phase's names while GoogleTest's
// objects still live, then says the program is exiting. If a report is being
// written, the exiting thread waits for its end here, before the static
// destructors could destroy what it reads. No allocation, no lock (a
// bounded wait for a publish in progress). Signal-safe.
void OnExitStarts();

}  // namespace gtest_watchdog_internal
