// File: gtest_watchdog/config/limits.h
//
// Where every limit is decided. Sources, most specific first:
//
//   1. a matching [[override]] in the config file (the first that matches);
//   2. a matching GTEST_WATCHDOG_TIMEOUT annotation (an exact name beats a
//      wildcard; otherwise the first by file and line);
//   3. --gtest_watchdog_timeout;
//   4. GTEST_WATCHDOG_TIMEOUT in the environment;
//   5. the config file's top-level `timeout`;
//   6. the built-in 60 s.
//
// The scale (flag, environment, config file, or a default for sanitizer and
// valgrind runs) multiplies every limit. SetUpTestSuite/TearDownTestSuite and
// the global environment have their own keys (suite_timeout,
// environment_timeout) and otherwise take the default test limit (3-6).
// The whole-run limit comes from total_timeout, capped below Bazel's
// TEST_TIMEOUT when that is set.
//
// Built once at start-up (allocates); afterwards read-only, and every
// `origin` string lives as long as the process.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/options.h"
#include "gtest_watchdog/config/pattern.h"

namespace gtest_watchdog_internal {

// One GTEST_WATCHDOG_TIMEOUT(pattern, duration) as registered.
struct Annotation {
  std::string pattern;
  long double limit_ns = 0;
  std::string file;
  int line = 0;
};
// The registry the macro fills before main(): constructed on first use.
std::vector<Annotation>& RegisteredAnnotations();

struct Limit {
  int64_t ns = 0;           // 0: no limit
  const char* origin = "";  // "--gtest_watchdog_timeout", ...
};

// A slower runtime that warrants longer limits when no scale was given.
struct RuntimeSlowdown {
  const char* name = nullptr;  // "ThreadSanitizer", ... or null
  double factor = 1;
};
// Looks for sanitizer runtimes and valgrind in this process. `lookup` is a
// seam over dlsym(RTLD_DEFAULT, name); `preload` over $LD_PRELOAD.
RuntimeSlowdown DetectSlowRuntime(bool (*has_symbol)(const char* name),
                                  const char* preload);
RuntimeSlowdown DetectSlowRuntime();

// An outer runner's kill time to our whole-run cap: a margin of 10 %, at
// least 2 s and at most 30 s, below it, so our report is out before the
// runner's signal. Used for Bazel's TEST_TIMEOUT and --gtest_watchdog_
// outer_timeout (CTest's TIMEOUT).
int64_t CapBelow(int64_t outer_ns);

// Bazel's TEST_TIMEOUT (seconds) to our whole-run cap (CapBelow). False with
// *error if `text` is not a positive integer.
bool BazelCap(const char* text, int64_t* cap_ns, std::string* error);

class LimitPlan {
 public:
  struct Inputs {
    const Options* options = nullptr;
    const ConfigFile* file = nullptr;  // may be null
    std::vector<Annotation> annotations;
    RuntimeSlowdown runtime;                   // used when no scale was given
    const char* bazel_test_timeout = nullptr;  // $TEST_TIMEOUT or null
  };
  // Resolves everything but per-test limits. False with *error naming the
  // culprit (a bad annotation: file:line, pattern or value; TEST_TIMEOUT).
  bool Build(const Inputs& inputs, std::string* error);

  // The limit for the test with this full name ("Inst/Suite.Name/0").
  // Does not allocate.
  Limit ForTest(absl::string_view full_name) const;
  // The longest a run of only this test may last before the watchdog
  // fires: the whole-run limit if there is one, else every phase such a run
  // goes through (environment set-up, SetUpTestSuite, the test,
  // TearDownTestSuite, environment tear-down) at its full limit; the
  // shorter of the two when both exist. 0 when nothing bounds the run (a
  // phase without a limit and no whole-run limit). For an outer runner's
  // timeout (CTest's TIMEOUT via gtest_watchdog_discover_tests).
  // `repeat`: --gtest_repeat (each repetition goes through every phase
  // again; negative: for ever, so only the whole-run limit bounds it).
  int64_t RunBoundForTest(absl::string_view full_name, int repeat = 1) const;
  // Whether any override or annotation exists; without, every test gets
  // test_default() and no name needs matching.
  bool has_patterns() const {
    return !annotations_.empty() || !override_limits_.empty();
  }
  // Whether any limit or mark is set at all (else the watchdog stays off).
  bool AnyLimit() const;
  const Limit& test_default() const { return test_default_; }
  const Limit& suite() const { return suite_; }
  const Limit& environment() const { return environment_; }
  const Limit& total() const { return total_; }
  const Limit& slow() const { return slow_; }
  double scale() const { return scale_; }
  const std::string& scale_origin() const { return scale_origin_; }
  // A start-up notice to print (scale chosen for a sanitizer), or "".
  const std::string& notice() const { return notice_; }
  // The shortest positive limit anywhere (and the slow mark): how long the
  // idle watchdog may sleep without missing an event.
  int64_t ShortestEvent() const;

 private:
  struct ResolvedAnnotation {
    FilterPattern pattern;
    int64_t ns;
    const char* origin;
  };
  const char* Intern(std::string text);
  Limit Scaled(int64_t ns, const std::string& origin);

  Limit test_default_, suite_, environment_, total_, slow_;
  double scale_ = 1;
  std::string scale_origin_;
  std::string notice_;
  const ConfigFile* file_ = nullptr;
  std::vector<ResolvedAnnotation> annotations_;
  std::vector<Limit> override_limits_;  // parallel to file_->overrides
  std::deque<std::string> strings_;     // stable storage for origins
};

}  // namespace gtest_watchdog_internal
