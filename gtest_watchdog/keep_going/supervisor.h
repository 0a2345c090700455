// File: gtest_watchdog/keep_going/supervisor.h
//
// Keep going (docs/keep-going.md), the supervisor's side. The program the
// user started becomes a supervisor: GoogleTest runs as usual in it, but
// selects no test of its own (so no environment, suite or test code runs
// here), and at each iteration's start the supervisor runs that
// iteration's tests in test children (keep_going/child.h), one after
// another: when a child ends early — its watchdog's report, a crash,
// exit(), SIGKILL — the test it was running fails alone, and a fresh child
// runs the tests left. The results go into this process's GoogleTest
// tables, so GoogleTest's own printer and XML/JSON generator show the whole
// run, and RUN_ALL_TESTS() returns 1 when anything failed.
//
// It is also a second watchdog: a child that runs past its phase's limit
// plus a margin without reporting (stopped, frozen, its watchdog unable to
// act) is described from outside (each thread's kernel state) and killed.
//
// Start-up only (the supervisor is a healthy process: it allocates, and runs
// no test).
#pragma once

#include <string>
#include <vector>

namespace gtest_watchdog_internal {

struct SupervisorSettings {
  // The program's arguments as main() got them, ours included: each test
  // child gets them again.
  std::vector<std::string> argv;
  int max_stalls = 10;  // 0: never stop
  std::string max_stalls_origin = "built-in default";
  // How many times a test whose process ended early (stall, crash, exit,
  // kill) runs again in a fresh one; a test that then passes is flaky.
  int retries = 0;
  // --gtest_watchdog_report's path (absolute, checked), or "": the run's
  // JSON report with every stall and crash (keep_going/run_report.h).
  std::string report_path;
  // The whole run's limit (total_timeout, Bazel's TEST_TIMEOUT,
  // outer_timeout: config/limits.h), 0 for none: it bounds the run, not
  // each child.
  int64_t total_ns = 0;
  std::string total_origin;
  // How long past a phase's limit a child may go without reporting before
  // the supervisor steps in; longer while its report is being written.
  int64_t margin_ns = 5000000000;
  int64_t report_margin_ns = 35000000000;
};

// After testing::InitGoogleTest, before RUN_ALL_TESTS: makes this process
// the supervisor. False with *error if it cannot (no memfd, no mapping).
// Start-up only.
bool InstallSupervisor(const SupervisorSettings& settings, std::string* error);

}  // namespace gtest_watchdog_internal
