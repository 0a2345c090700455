// File: gtest_watchdog/keep_going/selection.h
//
// Keep going (docs/keep-going.md): which tests a run selects, decided the
// way GoogleTest's own FilterTests decides it: `--gtest_filter` (its lenient
// syntax, not config/pattern.h's stricter one), disabled tests and
// `--gtest_also_run_disabled_tests`, and sharding (GTEST_TOTAL_SHARDS,
// GTEST_SHARD_INDEX, counted over the runnable tests in registration order).
// The supervisor cannot let GoogleTest decide it in its own process: a
// selection there would make GoogleTest run the global environments' SetUp
// in the supervisor.
//
// Start-up only (allocates).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {

// GoogleTest's `--gtest_filter` match of "Suite.Name": positive patterns
// before the first '-', negative after, ':'-separated, '*' and '?' globs.
// An empty positive part before a '-' means "*"; an empty filter, and an
// empty alternative, match no test.
bool GtestFilterMatches(absl::string_view filter, absl::string_view full_name);

// How many of `suites` GoogleTest counts as death-test suites (its
// kDeathTestSuiteFilter, "*DeathTest:*DeathTest/*"), which its shuffle
// shuffles apart. Not on the stall path.
int DeathTestSuiteCount(const std::vector<const testing::TestSuite*>& suites);

// GoogleTest's test of a disabled test: its suite or its name starts with
// "DISABLED_" (a typed or parameterized suite's part after '/' too).
bool GtestDisabled(absl::string_view suite, absl::string_view name);

struct SelectionInput {
  std::string filter = "*";
  bool also_run_disabled = false;
  // -1 or 1: not sharded. An index out of range (GoogleTest's RunAllTests
  // exits on it before any iteration) puts every test in another shard.
  int total_shards = -1;
  int shard_index = -1;
};

struct SelectedTest {
  bool matches_filter = false;
  bool in_another_shard = false;
  bool should_run = false;
};

// For each test (suite, name) in registration order, what FilterTests sets.
std::vector<SelectedTest> SelectTests(
    const SelectionInput& in,
    const std::vector<std::pair<absl::string_view, absl::string_view>>& tests);

// A registered test, numbered in registration order (as the test children
// number them: keep_going/child.h).
struct RegisteredTest {
  const testing::TestInfo* info = nullptr;
  const testing::TestSuite* suite = nullptr;
  int suite_id = 0;
  std::string name;  // "Suite.Name"
};

// Lists every registered test and suite of `unit` (registration order: call
// it before GoogleTest shuffles, or in a process where it never does) and
// sets GoogleTest's selection flags on them as FilterTests would for
// `filter`, --gtest_also_run_disabled_tests and GTEST_TOTAL_SHARDS /
// GTEST_SHARD_INDEX (gtest_output/gtest_internals.h).
void SelectAsGoogleTest(const testing::UnitTest& unit,
                        const std::string& filter,
                        std::vector<RegisteredTest>* tests,
                        std::vector<const testing::TestSuite*>* suites);

}  // namespace gtest_watchdog_internal
