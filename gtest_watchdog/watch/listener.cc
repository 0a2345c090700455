#include "gtest_watchdog/watch/listener.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "gtest_watchdog/report/stall_reporter.h"

namespace gtest_watchdog_internal {

void WatchdogListener::OnTestProgramStart(const testing::UnitTest&) {
  // Tests run on the thread that runs the listeners; once per program.
  StallReporter::SetTestThread(static_cast<pid_t>(syscall(SYS_gettid)));
}

void WatchdogListener::OnEnvironmentsSetUpStart(const testing::UnitTest&) {
  Arm(Phase::kEnvironmentSetUp, nullptr, plan_->environment());
}

void WatchdogListener::OnEnvironmentsSetUpEnd(const testing::UnitTest&) {
  board_->Disarm();
}

void WatchdogListener::OnTestSuiteStart(const testing::TestSuite& suite) {
  suite_ = &suite;
  Arm(Phase::kTestSuiteSetUp, &suite, plan_->suite());
}

void WatchdogListener::OnTestStart(const testing::TestInfo& test) {
  const auto it = tests_->find(&test);
  if (it != tests_->end()) {
    Arm(Phase::kTest, &test, it->second);
  } else {  // registered after start-up (testing::RegisterTest): rare
    Arm(Phase::kTest, &test,
        plan_->ForTest(std::string(test.test_suite_name()) + "." +
                       test.name()));
  }
}

void WatchdogListener::OnTestEnd(const testing::TestInfo&) {
  // Until the next OnTestStart or OnTestSuiteEnd only TearDownTestSuite()
  // (after the last test) runs user code.
  Arm(Phase::kTestSuiteTearDown, suite_, plan_->suite());
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
