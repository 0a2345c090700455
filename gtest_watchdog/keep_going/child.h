// File: gtest_watchdog/keep_going/child.h
//
// Keep going (docs/keep-going.md), the test child's side. The supervisor
// starts the program again (posix_spawn of /proc/self/exe, the same
// arguments) with GTEST_WATCHDOG_INTERNAL_CHILD naming four descriptors
// and a seed. The child then runs exactly the tests the list descriptor
// marks (a byte per registered test, in registration order), in
// GoogleTest's order for that seed, as one iteration; keeps its place in
// the shared page (watch/keep_going_page.h) with plain stores; appends each
// result to the results descriptor, or a plain pass to the shared log of
// passes (keep_going/result_record.h); and prints only the per-test lines:
// the run's header and summary are the supervisor's.
//
// Start-up only (allocates); the listener is Not on the stall path.
#pragma once

#include <string>

#include "gtest_watchdog/watch/keep_going_page.h"

namespace gtest_watchdog_internal {

// The variable that makes a process a test child.
constexpr char kChildVariable[] = "GTEST_WATCHDOG_INTERNAL_CHILD";
// Where a test child writes its JSON report, instead of the user's path
// (the supervisor's file gathers them all).
constexpr char kChildReportVariable[] = "GTEST_WATCHDOG_INTERNAL_CHILD_REPORT";

// "PAGE_FD:RESULTS_FD:LIST_FD:PASSES_FD:SEED:PARENT_PID:RUN_START_NS".
std::string ChildSpec(int page_fd, int results_fd, int list_fd, int passes_fd,
                      int seed, int parent_pid, int64_t run_start_ns);

// Whether this process is a test child (the variable is set). Start-up only.
bool IsTestChild();

// After testing::InitGoogleTest, in a test child: removes the variable (the
// test's own children are not test children), maps the page, selects
// the listed tests, sets the seed and one iteration, drops GoogleTest's
// XML/JSON output (the supervisor writes it) and its header and summary lines,
// and appends the listener. Returns the page (its board is the watchdog's) and
// when the supervisor's run began (monotonic clock, the same in every process),
// or null with *error. Start-up only.
KeepGoingPage* SetUpTestChild(int64_t* run_start_ns, std::string* error);

}  // namespace gtest_watchdog_internal
