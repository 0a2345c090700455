// File: gtest_watchdog/stall/gtest_output_step.h
//
// The stall path's last step before its closing line: GoogleTest's XML/JSON
// output (gtest_output/after_stall.h), failing the stalled test with the
// message the helper left, or the fallback report's headline and verdict
// (stall/fallback_report.h), or the headline alone; or, when the output cannot
// be written truthfully, one line saying why. Allocates (GoogleTest's
// printers): runs after the report is out, under the dead-man timer.
#pragma once

#include "gtest_watchdog/dump/snapshot.h"

namespace gtest_watchdog_internal {

// Has GoogleTest write its output, if one was requested, with `header`'s
// phase failed; `helper_ok`: the helper's failure message is there to use.
// `write_output`: the test program is still where the report found it;
// otherwise (or once exit() has begun) the output is not written and a line
// says why. After the report, best effort.
void WriteGtestOutputStep(const SnapshotHeader& header, bool write_output,
                          bool helper_ok);

}  // namespace gtest_watchdog_internal
