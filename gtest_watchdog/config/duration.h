// File: gtest_watchdog/config/duration.h
//
// Parsing of the DURATION values the contract accepts on flags, environment
// variables and config files: `90s`, `1.5s`, `250ms`, `2m`, `1h`, `1m30s`, or a
// bare number of seconds (`90`, `0.5`). `0` means "off" to the callers.
//
// Not on the stall path: allocates, not signal-safe.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gtest_watchdog_internal {

// Parses `text` into a finite, non-negative duration. On failure returns false
// and sets `*error` to a reason phrased to follow "invalid value 'X': ".
bool ParseDuration(absl::string_view text, absl::Duration* out,
                   std::string* error);

// Formats a limit for humans: "1 s", "1.5 s", "250 ms", "2 min", "1 min 30 s".
std::string FormatLimit(absl::Duration d);

}  // namespace gtest_watchdog_internal
