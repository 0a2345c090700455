#include "gtest_watchdog/gtest_output/gtest_internals.h"

// GoogleTest beyond its public API. Each difference between the releases we
// support (1.12 to 1.18) that matters here, and how it is handled:
//
// - 1.18: TestPartResult (and AssertHelper) take the file name as a
//   std::string_view. A null `const char*` becomes strlen(nullptr), a crash
//   (and a literal nullptr does not compile in C++23). Handled: never a null
//   file name; "" means "no location" in every version (kNoFile).
// - 1.16: the XML/JSON printers show a suite's own failure (from
//   SetUpTestSuite/TearDownTestSuite) as a test case "" of the suite; before,
//   it was left out of the file. Handled: SuiteFailuresInOutput().
// - 1.13: the JSON printer writes the comma before the "NonTestSuiteFailure"
//   suite, which 1.12 forgot. Handled: RepairJsonOutput().
// - 1.18: the classes are [[nodiscard]]. Nothing to do.
// - 1.18: UnitTest::GetTestSuite(i) follows the suites' shuffled order
//   (before, it returned the i-th registered suite whatever the shuffle),
//   so a shuffled run's XML/JSON lists the suites shuffled. Handled in part:
//   ShuffleAsGoogleTest orders each suite's tests; the suites' order lives
//   in UnitTestImpl, whose definition is not installed (docs/keep-going.md).
// - Help (HelpRequested): the same rules in 1.12 to 1.18: --help, or an
//   unknown --gtest_ flag (not --gtest_internal_*), on the command line or in
//   a --gtest_flagfile; -h, -? and /? are not help, although GoogleTest's
//   docs still list them. A GoogleTest built with Abseil's flags
//   (GTEST_HAS_ABSL) leaves --help to Abseil, which prints its usage and
//   exits inside InitGoogleTest: our flags' help is not shown then.
//
// Private members written (same names and types in 1.12 to 1.18):
// TestInfo::should_run_, matches_filter_, is_in_another_shard_;
// TestResult::elapsed_time_, start_timestamp_, AddTestPartResult,
// RecordProperty; TestSuite::elapsed_time_, start_timestamp_, should_run_;
// called: TestSuite::ShuffleTests(internal::Random*).
// Internal API read: testing::internal::GetArgvs(), the flag
// internal_run_death_test, and two declared only in GoogleTest's uninstalled
// src/gtest-internal-inl.h (exported, GTEST_API_, in 1.12 to 1.18; declared
// again below): testing::internal::g_help_flag and ShouldUseColor().
//
// A renamed member or function fails the build here, never silently. A
// changed behaviour shows in tests/integration/gtest_output_test.cc, which
// every build of the CI matrix runs (docs/linking.md).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

// As GoogleTest's src/gtest-internal-inl.h declares them.
namespace testing {
namespace internal {
GTEST_API_ extern bool g_help_flag;
GTEST_API_ bool ShouldUseColor(bool stdout_is_tty);
}  // namespace internal
}  // namespace testing

namespace gtest_watchdog_internal {
namespace gtest_internals {
namespace {

// An explicit instantiation may name private members (C++17
// [temp.explicit]/14); the pointer comes out through a friend function.
template <typename Tag, typename Tag::type kMember>
struct PrivateMember {
  friend typename Tag::type Member(Tag) { return kMember; }
};

struct TestShouldRun {
  using type = bool testing::TestInfo::*;
  friend type Member(TestShouldRun);
};
template struct PrivateMember<TestShouldRun, &testing::TestInfo::should_run_>;

struct ResultElapsed {
  using type = testing::TimeInMillis testing::TestResult::*;
  friend type Member(ResultElapsed);
};
template struct PrivateMember<ResultElapsed,
                              &testing::TestResult::elapsed_time_>;

struct SuiteElapsed {
  using type = testing::TimeInMillis testing::TestSuite::*;
  friend type Member(SuiteElapsed);
};
template struct PrivateMember<SuiteElapsed, &testing::TestSuite::elapsed_time_>;

struct ResultAddPart {
  using type = void (testing::TestResult::*)(const testing::TestPartResult&);
  friend type Member(ResultAddPart);
};
template struct PrivateMember<ResultAddPart,
                              &testing::TestResult::AddTestPartResult>;

struct TestMatchesFilter {
  using type = bool testing::TestInfo::*;
  friend type Member(TestMatchesFilter);
};
template struct PrivateMember<TestMatchesFilter,
                              &testing::TestInfo::matches_filter_>;

struct TestInAnotherShard {
  using type = bool testing::TestInfo::*;
  friend type Member(TestInAnotherShard);
};
template struct PrivateMember<TestInAnotherShard,
                              &testing::TestInfo::is_in_another_shard_>;

struct SuiteShouldRun {
  using type = bool testing::TestSuite::*;
  friend type Member(SuiteShouldRun);
};
template struct PrivateMember<SuiteShouldRun, &testing::TestSuite::should_run_>;

struct ResultStart {
  using type = testing::TimeInMillis testing::TestResult::*;
  friend type Member(ResultStart);
};
template struct PrivateMember<ResultStart,
                              &testing::TestResult::start_timestamp_>;

struct SuiteStart {
  using type = testing::TimeInMillis testing::TestSuite::*;
  friend type Member(SuiteStart);
};
template struct PrivateMember<SuiteStart,
                              &testing::TestSuite::start_timestamp_>;

struct ResultRecordProperty {
  using type = void (testing::TestResult::*)(const std::string&,
                                             const testing::TestProperty&);
  friend type Member(ResultRecordProperty);
};
template struct PrivateMember<ResultRecordProperty,
                              &testing::TestResult::RecordProperty>;

struct SuiteShuffle {
  using type = void (testing::TestSuite::*)(testing::internal::Random*);
  friend type Member(SuiteShuffle);
};
template struct PrivateMember<SuiteShuffle, &testing::TestSuite::ShuffleTests>;

// No file: "" in every version. GoogleTest stores the name as a std::string
// and reports an empty one as "no location" (file_name() is then null).
constexpr char kNoFile[] = "";

}  // namespace

bool SuiteFailuresInOutput() {
  // GoogleTest has no version macro. GTEST_INTERNAL_HAS_COMPARE_LIB came with
  // 1.16 (gtest-port.h defines it as 0 or 1), as did the suite's test case
  // in the XML/JSON printers. gtest_output_test's suite-phase tests fail if
  // this ever guesses wrong (the failure would be missing, or shown twice).
#if defined(GTEST_INTERNAL_HAS_COMPARE_LIB)
  return true;
#else
  return false;
#endif
}

void AddFatalFailure(const testing::TestResult& result,
                     const std::string& message) {
  const testing::TestPartResult part(testing::TestPartResult::kFatalFailure,
                                     kNoFile, -1, message.c_str());
  (const_cast<testing::TestResult&>(result).*Member(ResultAddPart{}))(part);
}

void ReportFatalFailure(const char* file, int line,
                        const std::string& message) {
  testing::internal::AssertHelper(
      testing::TestPartResult::kFatalFailure, file != nullptr ? file : kNoFile,
      file != nullptr ? line : -1, message.c_str()) = testing::Message();
}

void MarkNotRun(const testing::TestInfo& test) {
  const_cast<testing::TestInfo&>(test).*Member(TestShouldRun{}) = false;
}

void SetElapsed(const testing::TestResult& result, testing::TimeInMillis ms) {
  const_cast<testing::TestResult&>(result).*Member(ResultElapsed{}) = ms;
}

void SetElapsed(const testing::TestSuite& suite, testing::TimeInMillis ms) {
  const_cast<testing::TestSuite&>(suite).*Member(SuiteElapsed{}) = ms;
}

void SetSelection(const testing::TestInfo& test, bool matches_filter,
                  bool in_another_shard, bool should_run) {
  auto& t = const_cast<testing::TestInfo&>(test);
  t.*Member(TestMatchesFilter{}) = matches_filter;
  t.*Member(TestInAnotherShard{}) = in_another_shard;
  t.*Member(TestShouldRun{}) = should_run;
}

void SetShouldRun(const testing::TestSuite& suite, bool should_run) {
  const_cast<testing::TestSuite&>(suite).*Member(SuiteShouldRun{}) = should_run;
}

void ShuffleAsGoogleTest(const testing::UnitTest& unit, uint32_t seed,
                         int death_suites) {
  // UnitTestImpl::ShuffleTests (1.12 to 1.18): the death-test suites (first
  // in GoogleTest's list), then the rest, each a Fisher-Yates pass over its
  // range, then each suite's tests. The suites' own order lives in
  // UnitTestImpl, out of reach (see the top): their passes only use up the
  // generator's draws. GetTestSuite(i) is the i-th registered suite here,
  // in every version: this process never shuffled its suites.
  testing::internal::Random random(seed);
  const int suites = unit.total_test_suite_count();
  for (int width = death_suites; width >= 2; --width) {
    (void)random.Generate(static_cast<uint32_t>(width));
  }
  for (int width = suites - death_suites; width >= 2; --width) {
    (void)random.Generate(static_cast<uint32_t>(width));
  }
  for (int i = 0; i < suites; ++i) {
    auto& suite = const_cast<testing::TestSuite&>(*unit.GetTestSuite(i));
    (suite.*Member(SuiteShuffle{}))(&random);
  }
}

void SetStartTimestamp(const testing::TestResult& result,
                       testing::TimeInMillis ms) {
  const_cast<testing::TestResult&>(result).*Member(ResultStart{}) = ms;
}

void SetStartTimestamp(const testing::TestSuite& suite,
                       testing::TimeInMillis ms) {
  const_cast<testing::TestSuite&>(suite).*Member(SuiteStart{}) = ms;
}

void AddPart(const testing::TestResult& result,
             const testing::TestPartResult& part) {
  (const_cast<testing::TestResult&>(result).*Member(ResultAddPart{}))(part);
}

void AddProperty(const testing::TestResult& result, const std::string& element,
                 const std::string& key, const std::string& value) {
  (const_cast<testing::TestResult&>(result).*Member(ResultRecordProperty{}))(
      element, testing::TestProperty(key, value));
}

std::string ProgramName() {
  const std::vector<std::string> argv = testing::internal::GetArgvs();
  return argv.empty() ? std::string() : argv[0];
}

bool IsDeathTestChild() {
  return !GTEST_FLAG_GET(internal_run_death_test).empty();
}

bool HelpRequested() { return testing::internal::g_help_flag; }

bool StdoutInColor() {
  return testing::internal::ShouldUseColor(isatty(fileno(stdout)) != 0);
}

// GoogleTest 1.12's JSON printer forgets the comma before the
// "NonTestSuiteFailure" suite it adds after the others, making the file
// invalid. A raw newline cannot occur inside a JSON string, so this exact
// text is the printer's own. Versions that write the comma never match.
// Edits the file in place through one descriptor that does not follow a
// link and is not inherited by anything the program starts.
void RepairJsonOutput(const std::string& path) {
  const int fd = open(path.c_str(),
                      O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return;
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n =
        pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  const std::string broken =
      "\n    }    {\n      \"name\": \"NonTestSuiteFailure\"";
  const size_t at = text.find(broken);
  if (at == std::string::npos) {
    close(fd);
    return;
  }
  text.replace(at, broken.size(),
               "\n    },\n    {\n      \"name\": \"NonTestSuiteFailure\"");
  // Only the text from the fix on changes (and grows).
  size_t done = at;
  while (done < text.size()) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done,
                             static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done == text.size()) {
    (void)ftruncate(fd, static_cast<off_t>(text.size()));
  }
  close(fd);
}

}  // namespace gtest_internals
}  // namespace gtest_watchdog_internal
