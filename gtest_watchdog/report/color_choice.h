// File: gtest_watchdog/report/color_choice.h
//
// Whether the stall report uses ANSI colours: GoogleTest's --gtest_color
// (which also reads GTEST_COLOR) decides, NO_COLOR turns "auto" off, and
// "auto" means a terminal that is not "dumb". Decided once at start-up;
// the report helper only reads the answer.
//
// Not on the stall path: a pure function over its inputs.
#pragma once

namespace gtest_watchdog_internal {

// `gtest_color`: the flag's value ("auto", "yes", "no", ...); `no_color`
// and `term`: the NO_COLOR and TERM variables (null when unset). Start-up only.
bool ReportUsesColor(const char* gtest_color, const char* no_color,
                     const char* term, bool stderr_is_tty);

}  // namespace gtest_watchdog_internal
