// Tests for keep going's test selection (gtest_watchdog/keep_going/
// selection.h), which must decide as GoogleTest's FilterTests does. The
// expected values were taken from GoogleTest 1.12 itself: a program with the
// tests of kTests, run with each filter, --gtest_also_run_disabled_tests and
// GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX, printed the tests it ran.

#include "gtest_watchdog/keep_going/selection.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The experiment's tests, in GoogleTest's registration order (plain and
// typed suites as defined, then the parameterized ones).
const std::vector<std::pair<std::string, std::string>>& Tests() {
  static const auto* tests =
      new std::vector<std::pair<std::string, std::string>>{
          {"Foo", "A"},
          {"Foo", "B"},
          {"Foo", "DISABLED_C"},
          {"DISABLED_Bar", "X"},
          {"Bar", "Y"},
          {"Baz", "A1"},
          {"Ty/0", "T1"},
          {"Ty/1", "T1"},
          {"DISABLED_Ty/0", "T2"},
          {"DISABLED_Ty/1", "T2"},
          {"Inst/P", "Z/0"},
          {"Inst/P", "Z/1"},
          {"Inst/P", "DISABLED_W/0"},
          {"Inst/P", "DISABLED_W/1"},
          {"DISABLED_Inst/P", "Z/0"},
          {"DISABLED_Inst/P", "DISABLED_W/0"},
          {"Inst/DISABLED_Q", "V/0"},
          {"I/N", "M/ok"},
          {"I/N", "M/DISABLED_x"},
      };
  return *tests;
}

// As SelectTests takes them: views of the names.
std::vector<std::pair<absl::string_view, absl::string_view>> Views() {
  std::vector<std::pair<absl::string_view, absl::string_view>> views;
  for (const auto& [suite, name] : Tests()) views.emplace_back(suite, name);
  return views;
}

// "Suite.Name" of each test SelectTests says should run.

std::vector<std::string> Selected(const SelectionInput& in) {
  const std::vector<SelectedTest> selected = SelectTests(in, Views());
  EXPECT_EQ(selected.size(), Tests().size());
  std::vector<std::string> run;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (selected[i].should_run) {
      run.push_back(Tests()[i].first + "." + Tests()[i].second);
    }
  }
  return run;
}

std::vector<std::string> Selected(const std::string& filter,
                                  bool also_run_disabled = false) {
  SelectionInput in;
  in.filter = filter;
  in.also_run_disabled = also_run_disabled;
  return Selected(in);
}

std::vector<std::string> RunShard(int total, int index,
                                  const std::string& filter = "*",
                                  bool also_run_disabled = false) {
  SelectionInput in;
  in.filter = filter;
  in.also_run_disabled = also_run_disabled;
  in.total_shards = total;
  in.shard_index = index;
  return Selected(in);
}

TEST(GtestFilterMatchesTest, PositivePatterns) {
  EXPECT_TRUE(GtestFilterMatches("*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.A", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches("Foo.A", "Foo.AB"));
  EXPECT_FALSE(GtestFilterMatches("Foo.A", "XFoo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.*", "Foo."));
  EXPECT_FALSE(GtestFilterMatches("Foo.*", "FooBar.A"));
  EXPECT_TRUE(GtestFilterMatches("*.A", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("*o*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("**.*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("F*o*.*A", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches("F*o*.*B", "Foo.A"));
}

TEST(GtestFilterMatchesTest, QuestionMarkIsExactlyOneCharacter) {
  EXPECT_TRUE(GtestFilterMatches("Foo.?", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches("Foo.?", "Foo."));
  EXPECT_FALSE(GtestFilterMatches("Foo.?", "Foo.AB"));
  EXPECT_TRUE(GtestFilterMatches("F??.A", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo?A", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("*?", "F"));
  EXPECT_FALSE(GtestFilterMatches("?*", ""));
}

TEST(GtestFilterMatchesTest, StarBacktracks) {
  // Needs the '*' to be retried past an early partial match.
  EXPECT_TRUE(GtestFilterMatches("*ab", "aab"));
  EXPECT_TRUE(GtestFilterMatches("a*b*c", "abxbyc"));
  EXPECT_TRUE(GtestFilterMatches("*a*a*a", "aaaa"));
  EXPECT_FALSE(GtestFilterMatches("*a*a*a*b", "aaaa"));
  EXPECT_TRUE(GtestFilterMatches("*.*/*", "Inst/P.Z/0"));
  EXPECT_TRUE(GtestFilterMatches("*.*/*", "I/N.M/ok"));
  EXPECT_FALSE(GtestFilterMatches("*.*/*", "Ty/0.T1"));
}

TEST(GtestFilterMatchesTest, AlternativesAndNegativeParts) {
  EXPECT_TRUE(GtestFilterMatches("Bar.*:Foo.*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.A:Foo.B", "Foo.B"));
  EXPECT_FALSE(GtestFilterMatches("Foo.A:Foo.B", "Foo.C"));
  EXPECT_FALSE(GtestFilterMatches("Foo.*-Foo.A", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.*-Foo.A", "Foo.B"));
  EXPECT_FALSE(GtestFilterMatches("*-Foo.*:Bar.*", "Bar.Y"));
  EXPECT_TRUE(GtestFilterMatches("*-Foo.*:Bar.*", "Baz.A1"));
  // The negative part is everything after the first '-', further '-'
  // included: "Bar.Y-x" excludes nothing here.
  EXPECT_TRUE(GtestFilterMatches("Ba?.*-Bar.Y-x", "Bar.Y"));
  EXPECT_FALSE(GtestFilterMatches("*-Ty/*-x:Foo.A", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("*-Ty/*-x:Foo.A", "Ty/0.T1"));
}

TEST(GtestFilterMatchesTest, EmptyPositivePart) {
  // Before a '-', an empty positive part means "*".
  EXPECT_TRUE(GtestFilterMatches("-Foo.*", "Bar.Y"));
  EXPECT_FALSE(GtestFilterMatches("-Foo.*", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("-", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches("-*", "Foo.A"));
  // Without a '-', an empty filter matches nothing (`--gtest_filter=` and
  // GTEST_FILTER= run no test).
  EXPECT_FALSE(GtestFilterMatches("", "Foo.A"));
}

TEST(GtestFilterMatchesTest, EmptyAlternativesMatchNothing) {
  // GoogleTest accepts them (config/pattern.h would not): an empty pattern
  // matches only the empty name, so it adds nothing and excludes nothing.
  EXPECT_TRUE(GtestFilterMatches("Foo.*:", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches(":Foo.A", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches(":Foo.A", "Foo.B"));
  EXPECT_FALSE(GtestFilterMatches("::", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.*-", "Foo.A"));
  EXPECT_TRUE(GtestFilterMatches("Foo.*-:", "Foo.A"));
  EXPECT_FALSE(GtestFilterMatches("Foo.*-:Foo.A:", "Foo.A"));
}

TEST(GtestDisabledTest, SuiteOrNameStartingWithDisabled) {
  EXPECT_FALSE(GtestDisabled("Foo", "A"));
  EXPECT_TRUE(GtestDisabled("Foo", "DISABLED_C"));
  EXPECT_TRUE(GtestDisabled("DISABLED_Bar", "X"));
  EXPECT_FALSE(GtestDisabled("Foo", "Not_DISABLED_C"));
  EXPECT_FALSE(GtestDisabled("Foo", "disabled_C"));
  EXPECT_FALSE(GtestDisabled("Foo", "DISABLED"));
  EXPECT_TRUE(GtestDisabled("Foo", "DISABLED_"));
}

TEST(GtestDisabledTest, TypedAndParameterizedNames) {
  EXPECT_TRUE(GtestDisabled("DISABLED_Ty/0", "T2"));
  EXPECT_FALSE(GtestDisabled("Ty/0", "T1"));
  // INSTANTIATE_TEST_SUITE_P(Inst, DISABLED_Q, ...): the suite's part after
  // the instantiation's prefix.
  EXPECT_TRUE(GtestDisabled("Inst/DISABLED_Q", "V/0"));
  EXPECT_TRUE(GtestDisabled("DISABLED_Inst/P", "Z/0"));
  EXPECT_TRUE(GtestDisabled("Inst/P", "DISABLED_W/0"));
  // A parameter name from a name generator counts too.
  EXPECT_TRUE(GtestDisabled("I/N", "M/DISABLED_x"));
  EXPECT_FALSE(GtestDisabled("I/N", "M/ok"));
  EXPECT_TRUE(GtestDisabled("A/B/DISABLED_C", "x"));
  EXPECT_FALSE(GtestDisabled("A/xDISABLED_C", "x"));
}

TEST(SelectTestsTest, DefaultRunsWhatGoogleTestRuns) {
  EXPECT_THAT(Selected("*"),
              ElementsAre("Foo.A", "Foo.B", "Bar.Y", "Baz.A1", "Ty/0.T1",
                          "Ty/1.T1", "Inst/P.Z/0", "Inst/P.Z/1", "I/N.M/ok"));
}

TEST(SelectTestsTest, AlsoRunDisabled) {
  EXPECT_THAT(
      Selected("*", /*also_run_disabled=*/true),
      ElementsAre("Foo.A", "Foo.B", "Foo.DISABLED_C", "DISABLED_Bar.X", "Bar.Y",
                  "Baz.A1", "Ty/0.T1", "Ty/1.T1", "DISABLED_Ty/0.T2",
                  "DISABLED_Ty/1.T2", "Inst/P.Z/0", "Inst/P.Z/1",
                  "Inst/P.DISABLED_W/0", "Inst/P.DISABLED_W/1",
                  "DISABLED_Inst/P.Z/0", "DISABLED_Inst/P.DISABLED_W/0",
                  "Inst/DISABLED_Q.V/0", "I/N.M/ok", "I/N.M/DISABLED_x"));
}

TEST(SelectTestsTest, FiltersAsGoogleTestDoes) {
  EXPECT_THAT(Selected(""), IsEmpty());
  EXPECT_THAT(Selected("-"),
              ElementsAre("Foo.A", "Foo.B", "Bar.Y", "Baz.A1", "Ty/0.T1",
                          "Ty/1.T1", "Inst/P.Z/0", "Inst/P.Z/1", "I/N.M/ok"));
  EXPECT_THAT(Selected("-Foo.*"),
              ElementsAre("Bar.Y", "Baz.A1", "Ty/0.T1", "Ty/1.T1", "Inst/P.Z/0",
                          "Inst/P.Z/1", "I/N.M/ok"));
  EXPECT_THAT(Selected("Foo.*:"), ElementsAre("Foo.A", "Foo.B"));
  EXPECT_THAT(Selected(":Foo.A"), ElementsAre("Foo.A"));
  EXPECT_THAT(Selected("Foo.*-"), ElementsAre("Foo.A", "Foo.B"));
  EXPECT_THAT(Selected("Foo.?"), ElementsAre("Foo.A", "Foo.B"));
  EXPECT_THAT(Selected("*-*/*:Foo.B"), ElementsAre("Foo.A", "Bar.Y", "Baz.A1"));
  EXPECT_THAT(Selected("Ba?.*-Bar.Y-x"), ElementsAre("Bar.Y", "Baz.A1"));
  EXPECT_THAT(Selected("*Bar*-Ba?.Y-x"), ElementsAre("Bar.Y"));
  EXPECT_THAT(Selected("*-Ty/*-x:Foo.A"),
              ElementsAre("Foo.B", "Bar.Y", "Baz.A1", "Ty/0.T1", "Ty/1.T1",
                          "Inst/P.Z/0", "Inst/P.Z/1", "I/N.M/ok"));
  EXPECT_THAT(Selected("*.*/*"),
              ElementsAre("Inst/P.Z/0", "Inst/P.Z/1", "I/N.M/ok"));
  // A disabled test named exactly is still not run...
  EXPECT_THAT(Selected("Foo.DISABLED_C"), IsEmpty());
  // ...unless disabled tests are asked for.
  EXPECT_THAT(Selected("Foo.DISABLED_C", true), ElementsAre("Foo.DISABLED_C"));
}

TEST(SelectTestsTest, FlagsOfEachTest) {
  SelectionInput in;
  in.filter = "Foo.*";
  const std::vector<SelectedTest> s = SelectTests(in, Views());
  ASSERT_EQ(s.size(), Tests().size());
  // Foo.A: matches and runs; Foo.DISABLED_C: matches (GoogleTest prints it
  // in the "YOU HAVE n DISABLED TESTS" count) but does not run; Bar.Y does
  // not match.
  EXPECT_TRUE(s[0].matches_filter);
  EXPECT_TRUE(s[0].should_run);
  EXPECT_TRUE(s[2].matches_filter);
  EXPECT_FALSE(s[2].should_run);
  EXPECT_FALSE(s[4].matches_filter);
  EXPECT_FALSE(s[4].should_run);
  for (const SelectedTest& t : s) EXPECT_FALSE(t.in_another_shard);
}

TEST(SelectTestsTest, ShardsCountOnlyRunnableTests) {
  EXPECT_THAT(RunShard(3, 0), ElementsAre("Foo.A", "Baz.A1", "Inst/P.Z/0"));
  EXPECT_THAT(RunShard(3, 1), ElementsAre("Foo.B", "Ty/0.T1", "Inst/P.Z/1"));
  EXPECT_THAT(RunShard(3, 2), ElementsAre("Bar.Y", "Ty/1.T1", "I/N.M/ok"));
  EXPECT_THAT(RunShard(3, 0, "Foo.*:Bar.*:Baz.*"),
              ElementsAre("Foo.A", "Baz.A1"));
  EXPECT_THAT(RunShard(3, 1, "Foo.*:Bar.*:Baz.*"), ElementsAre("Foo.B"));
  EXPECT_THAT(RunShard(3, 2, "Foo.*:Bar.*:Baz.*"), ElementsAre("Bar.Y"));
  // With disabled tests asked for, they are runnable and counted.
  EXPECT_THAT(RunShard(2, 0, "Foo.*:Bar.*:Inst/P.*", true),
              ElementsAre("Foo.A", "Foo.DISABLED_C", "Inst/P.Z/0",
                          "Inst/P.DISABLED_W/0"));
  EXPECT_THAT(
      RunShard(2, 1, "Foo.*:Bar.*:Inst/P.*", true),
      ElementsAre("Foo.B", "Bar.Y", "Inst/P.Z/1", "Inst/P.DISABLED_W/1"));
}

TEST(SelectTestsTest, ShardFlags) {
  SelectionInput in;
  in.filter = "Foo.*";
  in.total_shards = 2;
  in.shard_index = 1;
  const std::vector<SelectedTest> s = SelectTests(in, Views());
  ASSERT_EQ(s.size(), Tests().size());
  // Foo.A (runnable #0) is in shard 0; Foo.B (#1) here; Foo.DISABLED_C is
  // not runnable, so the counter stays at 2 and it lands in shard 0.
  EXPECT_TRUE(s[0].in_another_shard);
  EXPECT_FALSE(s[0].should_run);
  EXPECT_FALSE(s[1].in_another_shard);
  EXPECT_TRUE(s[1].should_run);
  EXPECT_TRUE(s[2].in_another_shard);
  EXPECT_FALSE(s[2].should_run);
  // Tests that do not match are placed in a shard all the same.
  EXPECT_TRUE(s[4].in_another_shard);
  EXPECT_FALSE(s[4].matches_filter);
}

TEST(SelectTestsTest, OneShardIsNoSharding) {
  EXPECT_THAT(RunShard(1, 0, "Foo.*"), ElementsAre("Foo.A", "Foo.B"));
  SelectionInput in;
  in.total_shards = 1;
  in.shard_index = 0;
  for (const SelectedTest& t : SelectTests(in, Views())) {
    EXPECT_FALSE(t.in_another_shard);
  }
}

TEST(SelectTestsTest, ShardIndexOutOfRangeSelectsNothing) {
  // GoogleTest itself exits with "Invalid environment variables" before the
  // iteration starts (also in the supervisor, whose own RunAllTests checks
  // them), so SelectTests never sees these in a run; it then puts every
  // test in another shard.
  EXPECT_THAT(RunShard(3, 3, "Foo.*"), IsEmpty());
  EXPECT_THAT(RunShard(3, 7), IsEmpty());
}

TEST(SelectTestsTest, UnsetShardVariablesAreNoSharding) {
  EXPECT_THAT(RunShard(-1, -1, "Foo.*"), ElementsAre("Foo.A", "Foo.B"));
  EXPECT_THAT(RunShard(3, -1, "Foo.*"), ElementsAre("Foo.A", "Foo.B"));
}

TEST(SelectTestsTest, NoTests) {
  EXPECT_THAT(SelectTests(SelectionInput(), {}), IsEmpty());
}

}  // namespace
}  // namespace gtest_watchdog_internal
