#include "gtest_watchdog/watch/listener.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace gtest_watchdog_internal {

void FullName(const testing::TestInfo& test, std::string* out) {
  out->assign(test.test_suite_name());
  out->push_back('.');
  out->append(test.name());
}

void WatchdogListener::OnTestProgramStart(const testing::UnitTest&) {
  // Tests run on the thread that runs the listeners; once per program.
  board_->set_test_thread(static_cast<pid_t>(syscall(SYS_gettid)));
}

void WatchdogListener::OnEnvironmentsSetUpStart(const testing::UnitTest&) {
  Arm(Phase::kEnvironmentSetUp, nullptr, plan_->environment());
}

void WatchdogListener::OnEnvironmentsSetUpEnd(const testing::UnitTest&) {
  board_->Disarm();
}

void WatchdogListener::OnTestSuiteStart(const testing::TestSuite& suite) {
  suite_ = &suite;
  tests_ended_in_suite_ = 0;
  // Counted once here: test_to_run_count() walks the whole suite.
  tests_to_run_in_suite_ = suite.test_to_run_count();
  Arm(Phase::kTestSuiteSetUp, &suite, plan_->suite());
}

void WatchdogListener::OnTestStart(const testing::TestInfo& test) {
  if (!plan_->has_patterns()) {
    Arm(Phase::kTest, &test, plan_->test_default());
    return;
  }
  FullName(test, &name_);
  Arm(Phase::kTest, &test, plan_->ForTest(name_));
}

void WatchdogListener::OnTestEnd(const testing::TestInfo&) {
  // Between two tests only GoogleTest's own bookkeeping runs, so the ended
  // test's deadline simply stays armed until the next OnTestStart replaces
  // it: one publish per test instead of two. After the suite's last test,
  // TearDownTestSuite() runs: arm its limit.
  if (suite_ != nullptr && ++tests_ended_in_suite_ >= tests_to_run_in_suite_) {
    Arm(Phase::kTestSuiteTearDown, suite_, plan_->suite());
  }
}

void WatchdogListener::OnTestSuiteEnd(const testing::TestSuite&) {
  board_->Disarm();
}

void WatchdogListener::OnEnvironmentsTearDownStart(const testing::UnitTest&) {
  Arm(Phase::kEnvironmentTearDown, nullptr, plan_->environment());
}

void WatchdogListener::OnEnvironmentsTearDownEnd(const testing::UnitTest&) {
  board_->Disarm();
}

}  // namespace gtest_watchdog_internal
