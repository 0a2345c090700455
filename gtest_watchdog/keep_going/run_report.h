// File: gtest_watchdog/keep_going/run_report.h
//
// Keep going (docs/keep-going.md): the JSON report of a keep-going run
// (--gtest_watchdog_report=PATH), with every stall and crash of the run: for
// each, where it happened, how the test process ended, the verdict, and
// the test child's own report when it wrote one (docs/report-json.md,
// "A keep-going run"; docs/report.schema.json, `keep_going_run`).
//
// Not on the stall path (the supervisor's; allocates).
#pragma once

#include <string>
#include <vector>

namespace gtest_watchdog_internal {

struct RunIncident {
  int iteration = 0;
  // "test", "suite-setup", "between-tests", "suite-teardown",
  // "between-suites", "start", "environment-setup", "environment-teardown",
  // "end".
  std::string where;
  std::string test;      // "Suite.Name", or "" outside a test
  std::string suite;     // "" outside a suite
  std::string label;     // "stalled", "crashed", "exited", "killed", "stopped"
  std::string how;       // how the test process ended
  std::string verdict;   // the report's verdict line, or ""
  bool retried = false;  // the test ran again
  std::string outside;   // what the supervisor saw when it stepped in, or ""
  std::string report;    // the child's JSON report, or "" without one
};

// The file's text: one pretty-printed JSON document. A child's report that
// does not parse is left out (null). Not on the stall path.
std::string FormatRunReport(const std::vector<RunIncident>& incidents);

}  // namespace gtest_watchdog_internal
