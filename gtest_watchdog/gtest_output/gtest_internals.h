// File: gtest_watchdog/gtest_output/gtest_internals.h
//
// Everything gtest_watchdog does to GoogleTest beyond its public API, in one
// place: private members it writes, internal functions and flags it reads,
// and the differences between GoogleTest releases it has to know about.
// Checking a new GoogleTest release means checking gtest_internals.cc (its
// table at the top lists each difference, with the versions).
//
// Supported: GoogleTest 1.12 to 1.18 (docs/linking.md). None of this is used
// on the signal-safe part of the stall path: it runs at start-up, or after the
// report when GoogleTest's output is written (allocates, best effort, under
// the dead-man timer).
#pragma once

#include <string>

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace gtest_internals {

// Whether GoogleTest's XML and JSON printers show a failure recorded outside
// any test but inside a test suite (SetUpTestSuite, TearDownTestSuite) as a
// test case of that suite. Before 1.16 they left it out entirely, so such a
// failure also has to go into the program's own result (shown as the
// "NonTestSuiteFailure" suite) to appear in the file at all.
// After the report, best effort.
bool SuiteFailuresInOutput();

// Adds a fatal failure with `message` and no source location to `result`
// (any test's, suite's or the program's result, not only the current one).
// Allocates; no lock of GoogleTest's is taken. After the report, best effort.
void AddFatalFailure(const testing::TestResult& result,
                     const std::string& message);

// Reports a fatal failure with `message` the way an assertion on any thread
// does (through GoogleTest's global reporter, to the current test, suite or
// program, and to every listener), located at `file`:`line` when `file` is not
// null. Allocates; takes GoogleTest's mutex. After the report, best effort.
void ReportFatalFailure(const char* file, int line, const std::string& message);

// Makes a registered test "not run" (as GoogleTest writes a disabled test).
// After the report, best effort.
void MarkNotRun(const testing::TestInfo& test);

// Sets the elapsed time GoogleTest otherwise sets only when a test or a suite
// ends. After the report, best effort.
void SetElapsed(const testing::TestResult& result, testing::TimeInMillis ms);
void SetElapsed(const testing::TestSuite& suite, testing::TimeInMillis ms);

// Keep going (docs/keep-going.md): the supervisor runs no test itself but
// fills its own tables with the results its test children sent, so that
// GoogleTest's printer and XML/JSON generator show the whole run. The
// supervisor is a healthy process; these allocate.

// A test's selection flags, as GoogleTest's filter and sharding set them.
// Not on the stall path.
void SetSelection(const testing::TestInfo& test, bool matches_filter,
                  bool in_another_shard, bool should_run);
// Not on the stall path.
void SetShouldRun(const testing::TestSuite& suite, bool should_run);
// Shuffles each suite's tests as GoogleTest shuffles them for an iteration
// with `seed` (UnitTestImpl::ShuffleTests), for the keep-going supervisor,
// whose GoogleTest runs no test and so shuffles nothing: its XML/JSON and
// summary then list a suite's tests in the order a run without keep going
// lists them. GoogleTest puts them back after the iteration.
// `death_suites`: how many suites GoogleTest counts as death-test suites
// (it shuffles them apart, first). Not on the stall path.
void ShuffleAsGoogleTest(const testing::UnitTest& unit, uint32_t seed,
                         int death_suites);
// When a test or suite started (milliseconds since the epoch).
// Not on the stall path.
void SetStartTimestamp(const testing::TestResult& result,
                       testing::TimeInMillis ms);
// Not on the stall path.
void SetStartTimestamp(const testing::TestSuite& suite,
                       testing::TimeInMillis ms);
// Adds `part` to `result` as GoogleTest's reporter would.
// Not on the stall path.
void AddPart(const testing::TestResult& result,
             const testing::TestPartResult& part);
// Records a property as Test::RecordProperty would, for the XML element
// `element` ("testcase", "testsuite" or "testsuites").
// Not on the stall path.
void AddProperty(const testing::TestResult& result, const std::string& element,
                 const std::string& key, const std::string& value);

// argv[0] as InitGoogleTest saw it ("" if none): GoogleTest names the files
// of `--gtest_output=xml:DIR/` after it. Start-up only.
std::string ProgramName();

// Whether this process is a "threadsafe"-style death test child, re-executed
// by GoogleTest with --gtest_internal_run_death_test. Start-up only.
bool IsDeathTestChild();

// Whether GoogleTest was asked for its help: by --help, or by an unknown
// --gtest_ flag on the command line or in a --gtest_flagfile (not by -h, -?
// or /?, which 1.12 to 1.18 ignore, whatever GoogleTest's docs say). Then
// InitGoogleTest has printed its help to stdout, and RUN_ALL_TESTS runs
// nothing. Start-up only.
bool HelpRequested();

// Whether GoogleTest prints to stdout in colour (--gtest_color, and whether
// stdout is a terminal), as it printed its help. Start-up only.
bool StdoutInColor();

// Repairs what GoogleTest's JSON printer got wrong in the file at `path`
// (which `GoogleTest's generator has just written). Today: 1.12 forgot the
// comma before the "NonTestSuiteFailure" suite. Does nothing for a file it
// has nothing to repair in. Allocates; no lock; not signal-safe.
// After the report, best effort.
void RepairJsonOutput(const std::string& path);

}  // namespace gtest_internals
}  // namespace gtest_watchdog_internal
