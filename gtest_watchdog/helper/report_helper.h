// File: gtest_watchdog/helper/report_helper.h
//
// The report helper is this same test executable, started by the stall path
// with posix_spawn and one argument, `--gtest_watchdog_internal_report=FD`.
// An ELF constructor sees that argument before main() and before the
// program's own static initialisers, checks its caller, sets its symbolizer
// up while the stalled process takes its census, reads the snapshot from FD
// at the stalled process's go, unwinds
// the threads that could not answer (ptrace), symbolizes the parent's
// addresses with libdw, writes the report to stderr (and the JSON report)
// and exits: no test runs in it. A fresh process has no locks held by stuck
// threads, so it can allocate, demangle and read DWARF freely.
#pragma once

#include <sys/types.h>

#include <string>

#include "gtest_watchdog/dump/helper_protocol.h"

namespace gtest_watchdog_internal {

// Runs the helper on the snapshot in `fd`, writing the report to `out_fd`,
// the failure message to `message_fd`, signalling completion on `done_fd`
// (any may be -1); then, until `go_fd` ends, collects pids to kill. Started
// before the snapshot exists, it sets the symbolizer up for `parent` and
// reads `fd` only once the go byte arrives on `go_fd` (snapshot complete,
// ptrace permitted); without a go pipe (-1) it reads at once; the pipe's
// end or a parent gone before the byte ends it (kReportHelperNoGo).
// `parent`: the snapshot must be about this pid (the process that started
// the helper), else nothing is done (kReportHelperRefused); 0 accepts any.
// Returns the process exit status (0 = complete report written). Helper
// process only.
int RunReportHelper(int fd, int out_fd, int message_fd, int go_fd, int done_fd,
                    pid_t parent);

// Referenced by init.cc so a static link always keeps this object
// file, and with it the constructor above. Always true. Start-up only.
bool ReportHelperLinked();

}  // namespace gtest_watchdog_internal
