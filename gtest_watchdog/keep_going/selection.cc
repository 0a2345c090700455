#include "gtest_watchdog/keep_going/selection.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"

namespace gtest_watchdog_internal {
namespace {

// GoogleTest's glob: '*' any run of characters, '?' one character.
bool Glob(absl::string_view pattern, absl::string_view name) {
  size_t p = 0, n = 0, star = absl::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool AnyMatches(absl::string_view patterns, absl::string_view name) {
  for (absl::string_view p : absl::StrSplit(patterns, ':')) {
    if (Glob(p, name)) return true;
  }
  return false;
}

}  // namespace

bool GtestFilterMatches(absl::string_view filter, absl::string_view full_name) {
  const size_t dash = filter.find('-');
  absl::string_view positive = filter.substr(0, dash);
  const absl::string_view negative = dash == absl::string_view::npos
                                         ? absl::string_view()
                                         : filter.substr(dash + 1);
  // "-Foo.*" means "*-Foo.*"; but a filter without '-' that is empty
  // matches no test, as in GoogleTest (`--gtest_filter=` runs nothing).
  if (positive.empty() && dash != absl::string_view::npos) positive = "*";
  return AnyMatches(positive, full_name) &&
         (negative.empty() || !AnyMatches(negative, full_name));
}

int DeathTestSuiteCount(const std::vector<const testing::TestSuite*>& suites) {
  int count = 0;
  for (const testing::TestSuite* suite : suites) {
    if (GtestFilterMatches("*DeathTest:*DeathTest/*", suite->name())) ++count;
  }
  return count;
}

bool GtestDisabled(absl::string_view suite, absl::string_view name) {
  // GoogleTest's kDisableTestFilter, "DISABLED_*:*/DISABLED_*", matched
  // against the suite's name and the test's name separately.
  auto disabled = [](absl::string_view s) {
    return Glob("DISABLED_*", s) || Glob("*/DISABLED_*", s);
  };
  return disabled(suite) || disabled(name);
}

std::vector<SelectedTest> SelectTests(
    const SelectionInput& in,
    const std::vector<std::pair<absl::string_view, absl::string_view>>& tests) {
  std::vector<SelectedTest> out;
  out.reserve(tests.size());
  const bool sharded = in.total_shards > 1 && in.shard_index >= 0;
  int runnable_count = 0;
  std::string full_name;  // reused: no allocation per test
  for (const auto& [suite, name] : tests) {
    SelectedTest t;
    full_name.assign(suite.data(), suite.size());
    full_name += '.';
    full_name.append(name.data(), name.size());
    t.matches_filter = GtestFilterMatches(in.filter, full_name);
    const bool runnable =
        (in.also_run_disabled || !GtestDisabled(suite, name)) &&
        t.matches_filter;
    t.in_another_shard =
        sharded && runnable_count % in.total_shards != in.shard_index;
    t.should_run = runnable && !t.in_another_shard;
    runnable_count += runnable ? 1 : 0;
    out.push_back(t);
  }
  return out;
}

void SelectAsGoogleTest(const testing::UnitTest& unit,
                        const std::string& filter,
                        std::vector<RegisteredTest>* tests,
                        std::vector<const testing::TestSuite*>* suites) {
  tests->clear();
  suites->clear();
  const int count = unit.total_test_count();
  tests->reserve(static_cast<size_t>(count));
  suites->reserve(static_cast<size_t>(unit.total_test_suite_count()));
  // GoogleTest's own strings: they live as long as the program.
  std::vector<std::pair<absl::string_view, absl::string_view>> names;
  names.reserve(static_cast<size_t>(count));
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite* suite = unit.GetTestSuite(i);
    suites->push_back(suite);
    for (int j = 0; j < suite->total_test_count(); ++j) {
      const testing::TestInfo* t = suite->GetTestInfo(j);
      tests->push_back(
          {t, suite, i, absl::StrCat(suite->name(), ".", t->name())});
      names.emplace_back(suite->name(), t->name());
    }
  }
  SelectionInput in;
  in.filter = filter;
  in.also_run_disabled = GTEST_FLAG_GET(also_run_disabled_tests);
  // GoogleTest itself has checked them (and exited on bad values) before
  // any listener runs.
  const char* total = std::getenv("GTEST_TOTAL_SHARDS");
  const char* index = std::getenv("GTEST_SHARD_INDEX");
  if (total != nullptr && index != nullptr) {
    (void)absl::SimpleAtoi(total, &in.total_shards);
    (void)absl::SimpleAtoi(index, &in.shard_index);
  }
  const std::vector<SelectedTest> selected = SelectTests(in, names);
  std::vector<bool> suite_runs(suites->size(), false);
  for (size_t id = 0; id < tests->size(); ++id) {
    const SelectedTest& s = selected[id];
    gtest_internals::SetSelection(*(*tests)[id].info, s.matches_filter,
                                  s.in_another_shard, s.should_run);
    if (s.should_run) suite_runs[(*tests)[id].suite_id] = true;
  }
  for (size_t i = 0; i < suites->size(); ++i) {
    gtest_internals::SetShouldRun(*(*suites)[i], suite_runs[i]);
  }
}

}  // namespace gtest_watchdog_internal
