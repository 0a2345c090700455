// File: gtest_watchdog/keep_going/forwarding_listener.h
//
// Keep going (docs/keep-going.md): a listener that owns another (GoogleTest's
// console printer) and passes every event on to it. The test child's printer
// and the supervisor override what they print differently.
//
// Not on the stall path.
#pragma once

#include <memory>

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {

class ForwardingListener : public testing::TestEventListener {
 public:
  // Takes `to`; a null `to` forwards nowhere. Not on the stall path.
  explicit ForwardingListener(testing::TestEventListener* to)
      : to_(to != nullptr ? to : new testing::EmptyTestEventListener) {}

  void OnTestProgramStart(const testing::UnitTest& u) override {
    to_->OnTestProgramStart(u);
  }
  void OnTestIterationStart(const testing::UnitTest& u, int i) override {
    to_->OnTestIterationStart(u, i);
  }
  void OnEnvironmentsSetUpStart(const testing::UnitTest& u) override {
    to_->OnEnvironmentsSetUpStart(u);
  }
  void OnEnvironmentsSetUpEnd(const testing::UnitTest& u) override {
    to_->OnEnvironmentsSetUpEnd(u);
  }
  void OnTestSuiteStart(const testing::TestSuite& s) override {
    to_->OnTestSuiteStart(s);
  }
#ifndef GTEST_REMOVE_LEGACY_TEST_CASEAPI_
  // GoogleTest's printer prints the suite's lines from these, where
  // GoogleTest still has them (1.12 to 1.18, unless removed).
  void OnTestCaseStart(const testing::TestCase& s) override {
    to_->OnTestCaseStart(s);
  }
  void OnTestCaseEnd(const testing::TestCase& s) override {
    to_->OnTestCaseEnd(s);
  }
#endif
  void OnTestStart(const testing::TestInfo& t) override { to_->OnTestStart(t); }
  void OnTestDisabled(const testing::TestInfo& t) override {
    to_->OnTestDisabled(t);
  }
  void OnTestPartResult(const testing::TestPartResult& r) override {
    to_->OnTestPartResult(r);
  }
  void OnTestEnd(const testing::TestInfo& t) override { to_->OnTestEnd(t); }
  void OnTestSuiteEnd(const testing::TestSuite& s) override {
    to_->OnTestSuiteEnd(s);
  }
  void OnEnvironmentsTearDownStart(const testing::UnitTest& u) override {
    to_->OnEnvironmentsTearDownStart(u);
  }
  void OnEnvironmentsTearDownEnd(const testing::UnitTest& u) override {
    to_->OnEnvironmentsTearDownEnd(u);
  }
  void OnTestIterationEnd(const testing::UnitTest& u, int i) override {
    to_->OnTestIterationEnd(u, i);
  }
  void OnTestProgramEnd(const testing::UnitTest& u) override {
    to_->OnTestProgramEnd(u);
  }

 protected:
  testing::TestEventListener& to() { return *to_; }

 private:
  std::unique_ptr<testing::TestEventListener> to_;
};

}  // namespace gtest_watchdog_internal
