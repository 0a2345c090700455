// File: gtest_watchdog/report/report_formatter.h
//
// Turns a parsed snapshot plus symbolized frames into the human report: the
// headline in GoogleTest's bracketed style, where the stalled thread is in
// the user's code, a one-line census of the threads, then every thread with
// its name, state and stack. Pure functions over their inputs so the layout
// is unit-tested without a stalled process.
//
// Text from outside (thread names, command lines, paths, socket names) goes
// through EscapeText (text_escape.h) where FormatReport and
// FormatFailureMessage write it, so no control byte of it reaches the
// terminal; our own colour codes are added after. Headline returns raw
// text, as do the model's words it shares with the verdict and the JSON
// report (diagnose/model_text.h); each escapes them in its own way.
//
// Runs only in the report helper process: allocates, not signal-safe.
#pragma once

#include <string>

#include "gtest_watchdog/diagnose/analysis.h"
#include "gtest_watchdog/diagnose/report_model.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

struct FormatOptions {
  bool color = false;  // ANSI colours (a terminal that wants them)
};

// The text report: headline, where the test is stuck, deadlocks, census,
// children, then every group of threads with its stack. Helper process only.
std::string FormatReport(const ReportModel& model,
                         const FormatOptions& options);
// Shorthand: analyses `snapshot` with nothing but `symbolize`.
// Helper process only.
std::string FormatReport(const Snapshot& snapshot,
                         const SymbolizeFn& symbolize);
// "Suite.Name: test body still running after 1.00 s (limit 1s, from ...)".
// Helper process only.
std::string Headline(const ReportModel& model);
// The failure recorded in GoogleTest's XML/JSON output for the stalled
// test: the headline, the verdict ("[ VERDICT  ] ..." on the next line, for
// a crash too), then "Stack trace:" and the test thread's stack (a crash's:
// the crashing thread's). Helper process only.
std::string FormatFailureMessage(const ReportModel& model);

}  // namespace gtest_watchdog_internal
