// File: gtest_watchdog/watch/listener.h
//
// Maps GoogleTest's event stream onto watched phases: every event that
// starts a phase arms the board, every event that ends one disarms it.
//
//   OnEnvironmentsSetUpStart ... End      global Environment::SetUp
//   OnTestSuiteStart ... first OnTestStart SetUpTestSuite
//   OnTestStart ... OnTestEnd             constructor, SetUp, body, TearDown
//   last OnTestEnd ... OnTestSuiteEnd     TearDownTestSuite
//   OnEnvironmentsTearDownStart ... End   global Environment::TearDown
//
// Each callback is a few atomic stores (DeadlineBoard::Arm): no allocation,
// no system call, no lock.
#pragma once

#include "gtest/gtest.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

class WatchdogListener : public testing::EmptyTestEventListener {
 public:
  WatchdogListener(DeadlineBoard* board, int64_t limit_ns, const char* origin)
      : board_(board), limit_ns_(limit_ns), origin_(origin) {}

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
  void Arm(Phase phase, const void* subject) {
    board_->Arm(phase, subject, MonotonicNowNs(), limit_ns_, origin_);
  }

  DeadlineBoard* board_;
  int64_t limit_ns_;
  const char* origin_;
  const testing::TestSuite* suite_ = nullptr;
};

}  // namespace gtest_watchdog_internal
