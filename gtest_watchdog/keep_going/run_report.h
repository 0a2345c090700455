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
#include <utility>
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

// The report a test child wrote at `path` (its --gtest_watchdog_report, in
// the supervisor's private directory), removed; "" without one.
// Not on the stall path.
std::string TakeChildReport(const std::string& path);

// Every early end of the run: on the console as it happens and in the
// iteration's summary, and in the run's JSON report (rewritten whole after
// each, so a supervisor killed later still leaves every one before).
// Not on the stall path.
class IncidentLog {
 public:
  // `report_path`: --gtest_watchdog_report's, or "" for none.
  explicit IncidentLog(std::string report_path)
      : report_path_(std::move(report_path)) {}

  // A new iteration: its summary starts empty; the JSON report keeps all.
  void StartIteration();

  // How the child that ended last ended, what the supervisor saw of it
  // (or ""), and its own JSON report (or ""): for the next Record.
  void SetEnd(std::string how, std::string outside, std::string report);

  // One early end: `label` ("STALLED", ...), `where` for people, the failure
  // `message` (whose "[ VERDICT  ]" line, if any, is shown) or else `said`;
  // `incident` has where, test, suite, iteration and retried set.
  void Record(const std::string& label, const std::string& where,
              const std::string& message, const std::string& said,
              RunIncident incident);

  // "Suite.Name: passed on attempt 2 (...)".
  void Flaky(std::string line) { flaky_.push_back(std::move(line)); }

  // Early ends in this iteration.
  int count() const { return static_cast<int>(lines_.size()); }

  // The iteration's summary; `stopped`: why the run stopped early, or "".
  void Print(const std::string& stopped) const;

  // One line on stdout, after GoogleTest's (flushed).
  static void Say(const std::string& line);

 private:
  std::string report_path_;
  std::vector<std::string> lines_;  // "[ STALLED  ] Suite.Name: verdict"
  std::vector<std::string> flaky_;
  std::vector<RunIncident> all_;  // every iteration's
  std::string how_, outside_, report_;
};

}  // namespace gtest_watchdog_internal
