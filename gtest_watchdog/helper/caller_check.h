// File: gtest_watchdog/helper/caller_check.h
//
// The report helper's first step: making sure that whoever started it is
// the stall path of this same executable, before it reads, ptraces, kills
// or writes anything (docs/threat-model.md).
#pragma once

#include <sys/types.h>

#include <string>

namespace gtest_watchdog_internal {

// Whether this process may act as the report helper for the snapshot on
// `fd`: the argument alone proves nothing (anyone can pass it), and the
// helper ptraces, kills and writes files for the pid the snapshot names.
// Empty if it may; else one line saying which check failed, naming the
// culprit and value. All checks are made before anything is read from `fd`:
//   - not a secure-execution process (AT_SECURE: set-user-ID, set-group-ID,
//     file capabilities): the helper never acts with more rights than its
//     caller;
//   - `fd` is the stall path's memfd (readlink gives "/memfd:NAME (deleted)"
//     with NAME kSnapshotMemfdName): never a terminal, pipe or regular file
//     a caller chose, so reading it cannot block either;
//   - the parent (getppid) runs the same executable file as we do (st_dev,
//     st_ino of /proc/PID/exe; a deleted or replaced file still matches, as
//     the helper is started from /proc/self/exe) with our real and effective
//     uid, and is still our parent after those reads (so its pid was not
//     reused meanwhile).
// RunReportHelper then requires the snapshot to be about that parent.
// `*parent` gets the parent's pid once it is known. Helper process only:
// allocates.
std::string ReportHelperCallerProblem(int fd, pid_t* parent);

}  // namespace gtest_watchdog_internal
