// File: gtest_watchdog/base/raise.h
//
// Ending the process by a signal from a handler or the stall path, without
// anything a broken process could hang in.
#pragma once

namespace gtest_watchdog_internal {

// Resets `sig` to its default action, unblocks it and sends it to the
// calling thread, where it is delivered at once: for a signal whose default
// action ends the process, this does not return. Signal-safe.
void RaiseWithDefaultAction(int sig);

// Resets SIGABRT to its default action, unblocks it and sends it to the
// calling thread (as abort() does, without the stdio flush some sanitizer
// runtimes add). Used at the
// end of every report so that a crash handler the program installed does
// not start a second dump. Signal-safe.
[[noreturn]] void AbortNow();

}  // namespace gtest_watchdog_internal
