// File: gtest_watchdog/config/signal_list.h
//
// Which signals produce a report before the process dies by them:
// --gtest_watchdog_signals / GTEST_WATCHDOG_SIGNALS / `signals` in the config
// file. A comma-separated list of signal names ("SIGTERM" or "TERM", any
// case) or numbers, plus two words:
//
//   default          SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT
//   none             no signal handling at all (alone)
//
// so "default,SIGTERM" adds Bazel's and nextest's timeout signal and
// "default,SIGUSR1" a CTest TIMEOUT_SIGNAL_NAME. Only signals whose default
// action ends the process and that can be caught are accepted: SIGKILL,
// SIGSTOP, and the ones that stop or are ignored by default are errors.
//
// Start-up only: allocates.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest_watchdog/base/signal_name.h"  // SignalSet

namespace gtest_watchdog_internal {

// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT.
SignalSet DefaultSignals();

// Parses a list as above. On error returns false with *why naming the item
// and what is accepted; *out is left alone.
bool ParseSignalList(absl::string_view text, SignalSet* out, std::string* why);

// "SIGSEGV, SIGBUS, ..." in signal-number order; "none" for the empty set.
std::string FormatSignalSet(SignalSet set);

}  // namespace gtest_watchdog_internal
