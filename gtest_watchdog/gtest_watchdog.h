// File: gtest_watchdog/gtest_watchdog.h
//
// gtest_watchdog watches every phase of a GoogleTest run — global
// environment set-up and tear-down, SetUpTestSuite/TearDownTestSuite, the
// fixture constructor, SetUp(), the test body, TearDown() — and when one
// runs past its limit, writes a report to stderr naming the test, the phase,
// the limit and the elapsed time, with every thread's name, state and stack
// (function names and file:line, inlined frames included), then aborts.
//
// Link `gtest_watchdog::gtest_watchdog_main` instead of `GTest::gtest_main`,
// or, with your own main():
//
//   #include <gtest_watchdog/gtest_watchdog.h>
//
//   int main(int argc, char** argv) {
//     gtest_watchdog::InitGoogleTest(&argc, argv);  // not
//     testing::InitGoogleTest return RUN_ALL_TESTS();
//   }
//
// Then run with `--gtest_watchdog_timeout=30s` (or GTEST_WATCHDOG_TIMEOUT=30s
// in the environment; the flag wins). The built-in limit is 60 s; `0`
// switches the watchdog off.
#ifndef GTEST_WATCHDOG_GTEST_WATCHDOG_H_
#define GTEST_WATCHDOG_GTEST_WATCHDOG_H_

namespace gtest_watchdog {

// Reads and REMOVES every `--gtest_watchdog_*` flag from argv (GoogleTest
// would otherwise print its help and run no test), keeps every other
// argument in order, calls testing::InitGoogleTest and installs the
// watchdog. A malformed flag or GTEST_WATCHDOG_* variable prints a message
// naming it and its value and exits with status 2 before any test runs.
// Not thread-safe; call once, from the thread that will run the tests.
void InitGoogleTest(int* argc, char** argv);

}  // namespace gtest_watchdog

#endif  // GTEST_WATCHDOG_GTEST_WATCHDOG_H_
