// File: gtest_watchdog/report/report_helper.h
//
// The report helper is this same test executable, started by the stall path
// with posix_spawn and one argument, `--gtest_watchdog_internal_report=FD`.
// An ELF constructor sees that argument before main() and before the
// program's own static initialisers, reads the snapshot from FD, symbolizes
// the parent's addresses with libdw, writes the report to stderr and exits:
// no test runs in it. A fresh process has no locks held by stuck threads, so
// it can allocate, demangle and read DWARF freely.
#pragma once

namespace gtest_watchdog_internal {

inline constexpr char kReportHelperFlag[] = "--gtest_watchdog_internal_report";

// Runs the helper on the snapshot in `fd`, writing to `out_fd`. Returns the
// process exit status (0 = complete report written).
int RunReportHelper(int fd, int out_fd);

// Referenced by the stall path so a static link always keeps this object
// file, and with it the constructor above. Always true.
bool ReportHelperLinked();

}  // namespace gtest_watchdog_internal
