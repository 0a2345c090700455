// File: gtest_watchdog/watch/listener.h
//
// Maps GoogleTest's event stream onto watched phases: every event that
// starts a phase arms the board with that phase's limit, every event that
// ends one disarms it.
//
//   OnEnvironmentsSetUpStart ... End      global Environment::SetUp
//   OnTestSuiteStart ... first OnTestStart SetUpTestSuite
//   OnTestStart ... OnTestEnd             constructor, SetUp, body, TearDown
//   last OnTestEnd ... OnTestSuiteEnd     TearDownTestSuite
//   OnEnvironmentsTearDownStart ... End   global Environment::TearDown
//
// Each callback is a hash lookup (the per-test limits are computed at
// start-up) and a few atomic stores: no allocation, no system call, no lock.
#pragma once

#include <unordered_map>

#include "gtest/gtest.h"
#include "gtest_watchdog/config/limits.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

using TestLimits = std::unordered_map<const testing::TestInfo*, Limit>;

class WatchdogListener : public testing::EmptyTestEventListener {
 public:
  WatchdogListener(DeadlineBoard* board, const LimitPlan* plan,
                   const TestLimits* tests)
      : board_(board), plan_(plan), tests_(tests) {}

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
  const TestLimits* tests_;
  const testing::TestSuite* suite_ = nullptr;
};

}  // namespace gtest_watchdog_internal
