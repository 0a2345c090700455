// File: gtest_watchdog/watch/listener.h
//
// Maps GoogleTest's event stream onto watched phases: every event that
// starts a phase arms the board with that phase's limit, every event that
// ends one disarms it.
//
//   OnEnvironmentsSetUpStart ... End      global Environment::SetUp
//   OnTestSuiteStart ... first OnTestStart SetUpTestSuite
//   OnTestStart ... next OnTestStart      constructor, SetUp, body, TearDown
//                                         (the gap between tests is gtest's)
//   last OnTestEnd ... OnTestSuiteEnd     TearDownTestSuite
//   OnEnvironmentsTearDownStart ... End   global Environment::TearDown
//
// Each callback is a few atomic stores: no system call, no lock. With
// overrides or annotations, OnTestStart also matches the test's full name,
// built in a reused buffer (no allocation once it has grown to the longest
// name); without, every test simply gets the default limit.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/config/limits.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

// "Suite.Name" of a test into `out`, reusing its buffer. Not on the stall
// path: allocates until the buffer has grown to the longest name.
void FullName(const testing::TestInfo& test, std::string* out);

// Not on the stall path: GoogleTest calls it on the thread that runs the
// tests, which a report freezes (DeadlineBoard::Freeze).
class WatchdogListener : public testing::EmptyTestEventListener {
 public:
  WatchdogListener(DeadlineBoard* board, const LimitPlan* plan)
      : board_(board), plan_(plan) {
    name_.reserve(256);
  }

  void OnTestProgramStart(const testing::UnitTest&) override;
  void OnEnvironmentsSetUpStart(const testing::UnitTest&) override;
  void OnEnvironmentsSetUpEnd(const testing::UnitTest&) override;
  void OnTestSuiteStart(const testing::TestSuite& suite) override;
  void OnTestStart(const testing::TestInfo& test) override;
  void OnTestEnd(const testing::TestInfo& test) override;
  void OnTestSuiteEnd(const testing::TestSuite& suite) override;
  void OnEnvironmentsTearDownStart(const testing::UnitTest&) override;
  void OnEnvironmentsTearDownEnd(const testing::UnitTest&) override;

 private:
  void Arm(Phase phase, const void* subject, const Limit& limit) {
    board_->Arm(phase, subject, MonotonicNowNs(), limit.ns, limit.origin);
  }

  DeadlineBoard* board_;
  const LimitPlan* plan_;
  std::string name_;  // reused for every test's full name
  const testing::TestSuite* suite_ = nullptr;
  int tests_ended_in_suite_ = 0;
  int tests_to_run_in_suite_ = 0;
};

}  // namespace gtest_watchdog_internal
