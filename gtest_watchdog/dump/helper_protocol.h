// File: gtest_watchdog/dump/helper_protocol.h
//
// How the stall path starts the report helper and talks to it: the one
// argument, the in-memory file's name and the descriptors each side finds.
// Shared by both sides of the process boundary, like the snapshot itself
// (dump/snapshot.h). Constants only.
#pragma once

namespace gtest_watchdog_internal {

inline constexpr char kReportHelperFlag[] = "--gtest_watchdog_internal_report";
// The name the stall path gives the in-memory file holding the snapshot: the
// helper reads descriptor FD only if it is that file (see
// ReportHelperCallerProblem).
inline constexpr char kSnapshotMemfdName[] = "gtest_watchdog_snapshot";
// Exit status of a helper that refused its caller (it wrote nothing else).
inline constexpr int kReportHelperRefused = 6;
// Exit status of a helper whose parent ended, or closed the go pipe, before
// it sent the go byte: it read no snapshot and wrote one line.
inline constexpr int kReportHelperNoGo = 7;
// Besides the snapshot's FD, the helper finds: on this descriptor, an
// in-memory file for the failure message GoogleTest's XML/JSON output gets;
inline constexpr int kReportHelperMessageFd = 4;
// on this one, a pipe that delivers one byte once the snapshot is complete
// and the stalled process has permitted the helper to ptrace it (Yama): the
// helper is started before the snapshot is written, reads it only then, and
// never attaches too early.
// The same pipe later brings the pids of the test's child processes, which
// the stalled process has stopped; at its end (the stalled process is gone)
// the helper kills them, so they outlive neither the test binary nor, while
// it still runs, wake a test that waits for them.
inline constexpr int kReportHelperGoFd = 5;
// The helper writes one byte here once the report is complete, then stays
// for the step above.
inline constexpr int kReportHelperDoneFd = 6;

}  // namespace gtest_watchdog_internal
