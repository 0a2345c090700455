// File: gtest_watchdog/report/report_helper.h
//
// The report helper is this same test executable, started by the stall path
// with posix_spawn and one argument, `--gtest_watchdog_internal_report=FD`.
// An ELF constructor sees that argument before main() and before the
// program's own static initialisers, reads the snapshot from FD, unwinds
// the threads that could not answer (ptrace), symbolizes the parent's
// addresses with libdw, writes the report to stderr (and the JSON report)
// and exits: no test runs in it. A fresh process has no locks held by stuck
// threads, so it can allocate, demangle and read DWARF freely.
#pragma once

namespace gtest_watchdog_internal {

inline constexpr char kReportHelperFlag[] = "--gtest_watchdog_internal_report";
// Besides the snapshot's FD, the helper finds: on this descriptor, an
// in-memory file for the failure message GoogleTest's XML/JSON output gets;
inline constexpr int kReportHelperMessageFd = 4;
// on this one, a pipe that delivers one byte once the stalled process has
// permitted the helper to ptrace it (Yama), so it never attaches too early.
// The same pipe later brings the pids of the test's child processes, which
// the stalled process has stopped; at its end (the stalled process is gone)
// the helper kills them, so they outlive neither the test binary nor, while
// it still runs, wake a test that waits for them.
inline constexpr int kReportHelperGoFd = 5;
// The helper writes one byte here once the report is complete, then stays
// for the step above.
inline constexpr int kReportHelperDoneFd = 6;

// Runs the helper on the snapshot in `fd`, writing the report to `out_fd`,
// the failure message to `message_fd` and reading the go-ahead for ptrace
// from `go_fd`, signalling completion on `done_fd` (any may be -1); then,
// until `go_fd` ends, collects pids to kill. Returns the process exit status (0
// = complete report written).
int RunReportHelper(int fd, int out_fd, int message_fd, int go_fd, int done_fd);

// Referenced by the stall path so a static link always keeps this object
// file, and with it the constructor above. Always true.
bool ReportHelperLinked();

}  // namespace gtest_watchdog_internal
