// File: gtest_watchdog/config/timeout_list.h
//
// --gtest_watchdog_list_timeouts: every selected test with its limit and
// where the limit came from, as a table for people or as tab-separated
// values for tools. gtest_watchdog_discover_tests reads the TSV to give
// each CTest test a TIMEOUT above the longest the watchdog lets it run.
//
// Start-up only: allocates, not signal-safe.
#pragma once

#include <string>

#include "gtest_watchdog/config/limits.h"

namespace gtest_watchdog_internal {

// What GoogleTest says about one test.
struct ListedTest {
  std::string suite;        // "Inst/Suite" (typed: "Suite/0")
  std::string name;         // "Name/0"
  std::string type_param;   // "" unless a typed test
  std::string value_param;  // "" unless a value-parameterised test
};

// The TSV's first line: a '#' comment naming the columns.
std::string TimeoutTsvHeader();

// One TSV line: suite, name, limit (s), run bound (s; LimitPlan::
// RunBoundForTest), type parameter, value parameter, origin. Seconds with
// up to 9 decimals, 0 for none. Tabs and line breaks inside a field (a
// parameter's printed value may hold any) become spaces, so every test is
// one line of exactly seven fields.
// `repeat` is --gtest_repeat, which multiplies the run bound.
std::string TimeoutTsvRow(const LimitPlan& plan, const ListedTest& test,
                          int repeat = 1);

// One line of the table for people: name, limit ("off" for none), origin.
std::string TimeoutTableRow(const LimitPlan& plan, const ListedTest& test);

}  // namespace gtest_watchdog_internal
