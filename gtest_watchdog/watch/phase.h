// File: gtest_watchdog/watch/phase.h
//
// The phases of a GoogleTest run the watchdog arms a deadline for. Inside
// kTest the fixture constructor, SetUp(), the body, TearDown() and the
// destructor are told apart afterwards, from the stalled thread's stack
// (ClassifyTestPart in diagnose/user_code.h), because GoogleTest emits no
// event between them.
#pragma once

namespace gtest_watchdog_internal {

enum class Phase : int {
  kNone = 0,
  kEnvironmentSetUp,    // global Environment::SetUp()
  kTestSuiteSetUp,      // SetUpTestSuite()
  kTest,                // fixture constructor, SetUp(), body, TearDown(), dtor
  kTestSuiteTearDown,   // TearDownTestSuite()
  kEnvironmentTearDown  // global Environment::TearDown()
};

// Stable identifiers used in the snapshot handed to the report helper.
// Signal-safe: returns a string literal.
inline const char* PhaseId(Phase phase) {
  switch (phase) {
    case Phase::kNone:
      return "none";
    case Phase::kEnvironmentSetUp:
      return "environment-setup";
    case Phase::kTestSuiteSetUp:
      return "suite-setup";
    case Phase::kTest:
      return "test";
    case Phase::kTestSuiteTearDown:
      return "suite-teardown";
    case Phase::kEnvironmentTearDown:
      return "environment-teardown";
  }
  return "none";
}

// What the phase runs, for humans ("SetUpTestSuite()"). Signal-safe.
inline const char* PhaseDescription(Phase phase) {
  switch (phase) {
    case Phase::kNone:
      return "nothing";
    case Phase::kEnvironmentSetUp:
      return "global test environment: SetUp()";
    case Phase::kTestSuiteSetUp:
      return "SetUpTestSuite()";
    case Phase::kTest:
      return "test";
    case Phase::kTestSuiteTearDown:
      return "TearDownTestSuite()";
    case Phase::kEnvironmentTearDown:
      return "global test environment: TearDown()";
  }
  return "nothing";
}

}  // namespace gtest_watchdog_internal
