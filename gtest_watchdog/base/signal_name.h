// File: gtest_watchdog/base/signal_name.h
//
// A signal's name, from a fixed table, and sets of signals: used by the
// option parser at start-up, the stall path and the report helper alike.
#pragma once

#include <cstdint>

namespace gtest_watchdog_internal {

// "SIGSEGV"; real-time signals as "SIGRTMIN+3" (from a fixed table); 0 or
// out of range gives "SIG?". Signal-safe.
const char* SignalName(int sig);

// Bit (sig - 1) set for each chosen signal (1..64).
using SignalSet = uint64_t;

// Signal-safe.
constexpr SignalSet SignalBit(int sig) { return SignalSet{1} << (sig - 1); }
constexpr bool HasSignal(SignalSet set, int sig) {
  return sig >= 1 && sig <= 64 && (set & SignalBit(sig)) != 0;
}

}  // namespace gtest_watchdog_internal
