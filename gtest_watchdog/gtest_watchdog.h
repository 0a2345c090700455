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
//     // instead of testing::InitGoogleTest:
//     gtest_watchdog::InitGoogleTest(&argc, argv);
//     return RUN_ALL_TESTS();
//   }
//
// Limits: `--gtest_watchdog_timeout=30s` (or GTEST_WATCHDOG_TIMEOUT=30s; the
// flag wins), a TOML file (`--gtest_watchdog_config=PATH`), and per-test
// annotations next to the tests:
//
//   GTEST_WATCHDOG_TIMEOUT("Network.*", std::chrono::minutes(2));
//   GTEST_WATCHDOG_TIMEOUT("Fuzz.Forever", std::chrono::seconds(0));  // off
//
// and, inside a test, for a stretch known to be slow:
//
//   {
//     gtest_watchdog::ScopedTimeout slow_part(std::chrono::minutes(5));
//     BuildTheIndex();
//   }  // the test gets back the time it had left when the scope began
//
// See docs/configuration.md for every source and how they combine.
#ifndef GTEST_WATCHDOG_GTEST_WATCHDOG_H_
#define GTEST_WATCHDOG_GTEST_WATCHDOG_H_

#include <chrono>
#include <cstdint>

// The public API. The library is built with hidden visibility, so a shared
// libgtest_watchdog exports only what is marked here.
#define GTEST_WATCHDOG_API __attribute__((visibility("default")))

namespace gtest_watchdog {

// Reads and REMOVES every `--gtest_watchdog_*` flag from argv (GoogleTest
// would otherwise print its help and run no test), keeps every other
// argument in order, calls testing::InitGoogleTest and installs the
// watchdog. A malformed flag, GTEST_WATCHDOG_* variable, config file or
// annotation prints a message naming it and its value and exits with status
// 2 before any test runs. Not thread-safe; call once, from the thread that
// will run the tests.
GTEST_WATCHDOG_API void InitGoogleTest(int* argc, char** argv);

namespace internal_api {
// Converts any std::chrono::duration to nanoseconds as a long double, so
// huge or fractional durations are range-checked later instead of
// overflowing here.
template <typename Rep, typename Period>
long double ToNanoseconds(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<long double, std::nano>(d).count();
}

// What GTEST_WATCHDOG_TIMEOUT expands to: registers (pattern, limit) before
// main() in a function-local registry (no static-order hazard). Problems (a
// bad pattern, a negative limit) are reported by InitGoogleTest.
class GTEST_WATCHDOG_API AnnotationRegistrar {
 public:
  template <typename Rep, typename Period>
  AnnotationRegistrar(const char* pattern,
                      std::chrono::duration<Rep, Period> limit,
                      const char* file, int line)
      : AnnotationRegistrar(pattern, ToNanoseconds(limit), file, line) {}
  AnnotationRegistrar(const char* pattern, long double limit_ns,
                      const char* file, int line);
};

GTEST_WATCHDOG_API void ScopedTimeoutEnter(long double limit_ns, void* saved);
GTEST_WATCHDOG_API void ScopedTimeoutLeave(const void* saved);
GTEST_WATCHDOG_API void ExtendTimeoutBy(long double extra_ns);
}  // namespace internal_api

// For a stretch of a test known to be slow: while the guard lives, the
// running test (or set-up/tear-down phase) may take `limit` from the
// guard's construction (zero: no limit); when it is destroyed, the phase
// gets back the time it had left when the guard was made. Call on the
// thread running the test. Does nothing while the watchdog is off.
class ScopedTimeout {
 public:
  template <typename Rep, typename Period>
  explicit ScopedTimeout(std::chrono::duration<Rep, Period> limit) {
    internal_api::ScopedTimeoutEnter(internal_api::ToNanoseconds(limit),
                                     saved_);
  }
  ~ScopedTimeout() { internal_api::ScopedTimeoutLeave(saved_); }
  ScopedTimeout(const ScopedTimeout&) = delete;
  ScopedTimeout& operator=(const ScopedTimeout&) = delete;

 private:
  alignas(8) unsigned char saved_[64];  // the phase's deadline before
};

// Gives the running test (or phase) `extra` more time. Call on the thread
// running the test. Does nothing while the watchdog is off or the phase
// has no limit.
template <typename Rep, typename Period>
void ExtendTimeout(std::chrono::duration<Rep, Period> extra) {
  internal_api::ExtendTimeoutBy(internal_api::ToNanoseconds(extra));
}

}  // namespace gtest_watchdog

#define GTEST_WATCHDOG_CONCAT_INNER_(a, b) a##b
#define GTEST_WATCHDOG_CONCAT_(a, b) GTEST_WATCHDOG_CONCAT_INNER_(a, b)

// GTEST_WATCHDOG_TIMEOUT(pattern, duration); — at namespace scope. `pattern`
// uses --gtest_filter syntax and matches full names
// ("Instantiation/Suite.Name/Param"); `duration` is any std::chrono::duration;
// zero switches the watchdog off for the matching tests. A config file
// [[override]] beats an annotation; an annotation beats every other source.
#define GTEST_WATCHDOG_TIMEOUT(pattern, duration)                  \
  static const ::gtest_watchdog::internal_api::AnnotationRegistrar \
  GTEST_WATCHDOG_CONCAT_(gtest_watchdog_annotation_, __COUNTER__)( \
      pattern, duration, __FILE__, __LINE__)

#endif  // GTEST_WATCHDOG_GTEST_WATCHDOG_H_
