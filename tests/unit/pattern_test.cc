// Tests for FilterPattern (gtest_watchdog/config/pattern.h).

#include "gtest_watchdog/config/pattern.h"

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

FilterPattern MustParse(const std::string& text) {
  FilterPattern pattern;
  std::string error;
  EXPECT_TRUE(FilterPattern::Parse(text, &pattern, &error))
      << "pattern '" << text << "': " << error;
  return pattern;
}

TEST(PatternTest, ExactNameMatchesOnlyItself) {
  const FilterPattern p = MustParse("Suite.Name");
  EXPECT_EQ(p.text(), "Suite.Name");
  EXPECT_TRUE(p.Matches("Suite.Name"));
  EXPECT_FALSE(p.Matches("Suite.Name2"));
  EXPECT_FALSE(p.Matches("Suite.Nam"));
  EXPECT_FALSE(p.Matches("XSuite.Name"));
  EXPECT_FALSE(p.Matches("suite.name"));  // case-sensitive
  EXPECT_FALSE(p.Matches(""));
}

TEST(PatternTest, StarMatchesAnyRunIncludingEmptyDotAndSlash) {
  const FilterPattern p = MustParse("Suite.*");
  EXPECT_TRUE(p.Matches("Suite."));
  EXPECT_TRUE(p.Matches("Suite.Name"));
  EXPECT_TRUE(p.Matches("Suite.Name/3"));
  EXPECT_FALSE(p.Matches("Suite"));
  EXPECT_FALSE(p.Matches("Other.Name"));

  const FilterPattern all = MustParse("*");
  EXPECT_TRUE(all.Matches(""));
  EXPECT_TRUE(all.Matches("Inst/Suite.Name/0"));

  const FilterPattern middle = MustParse("*.Slow*");
  EXPECT_TRUE(middle.Matches("Net.SlowGet"));
  EXPECT_TRUE(middle.Matches("A/B.Slow/1"));
  EXPECT_FALSE(middle.Matches("Net.FastSlow"));
}

TEST(PatternTest, QuestionMarkMatchesExactlyOneCharacter) {
  const FilterPattern p = MustParse("Suite.Test?");
  EXPECT_TRUE(p.Matches("Suite.Test1"));
  EXPECT_TRUE(p.Matches("Suite.Test/"));
  EXPECT_FALSE(p.Matches("Suite.Test"));
  EXPECT_FALSE(p.Matches("Suite.Test12"));
  const FilterPattern dot = MustParse("Suite?Test");
  EXPECT_TRUE(dot.Matches("Suite.Test"));
}

TEST(PatternTest, AlternativesMatchAny) {
  const FilterPattern p = MustParse("Net.*:Db.Slow:Cache.?");
  EXPECT_TRUE(p.Matches("Net.Get"));
  EXPECT_TRUE(p.Matches("Db.Slow"));
  EXPECT_TRUE(p.Matches("Cache.A"));
  EXPECT_FALSE(p.Matches("Db.Fast"));
  EXPECT_FALSE(p.Matches("Cache.AB"));
}

TEST(PatternTest, NegativesExclude) {
  const FilterPattern p = MustParse("Net.*:Db.*-Db.Fast:*.Skip*");
  EXPECT_TRUE(p.Matches("Net.Get"));
  EXPECT_TRUE(p.Matches("Db.Slow"));
  EXPECT_FALSE(p.Matches("Db.Fast"));
  EXPECT_FALSE(p.Matches("Net.SkipMe"));
  EXPECT_FALSE(p.Matches("Other.Get"));
}

TEST(PatternTest, LeadingDashMeansEverythingExcept) {
  const FilterPattern p = MustParse("-Db.*:Net.Slow");
  EXPECT_TRUE(p.Matches("Anything.Else"));
  EXPECT_TRUE(p.Matches("Net.Fast"));
  EXPECT_FALSE(p.Matches("Db.Any"));
  EXPECT_FALSE(p.Matches("Net.Slow"));
  EXPECT_FALSE(p.is_exact());
}

TEST(PatternTest, ParameterizedTestFullNames) {
  const FilterPattern p = MustParse("*/Suite.*");
  EXPECT_TRUE(p.Matches("Inst/Suite.Name/0"));
  EXPECT_TRUE(p.Matches("Other/Suite.Name/17"));
  EXPECT_FALSE(p.Matches("Suite.Name"));  // no instantiation prefix
  EXPECT_FALSE(p.Matches("Inst/OtherSuite.Name/0"));

  const FilterPattern one = MustParse("Inst/Suite.Name/0");
  EXPECT_TRUE(one.Matches("Inst/Suite.Name/0"));
  EXPECT_FALSE(one.Matches("Inst/Suite.Name/1"));
  EXPECT_FALSE(one.Matches("Inst/Suite.Name/00"));

  const FilterPattern any_param = MustParse("Inst/Suite.Name/*");
  EXPECT_TRUE(any_param.Matches("Inst/Suite.Name/12"));
  EXPECT_FALSE(any_param.Matches("Inst/Suite.Name"));
}

TEST(PatternTest, TypedTestFullNames) {
  const FilterPattern p = MustParse("Typed/1.Test");
  EXPECT_TRUE(p.Matches("Typed/1.Test"));
  EXPECT_FALSE(p.Matches("Typed/0.Test"));
  const FilterPattern all_types = MustParse("Typed/*.Test");
  EXPECT_TRUE(all_types.Matches("Typed/0.Test"));
  EXPECT_TRUE(all_types.Matches("Typed/12.Test"));
  EXPECT_FALSE(all_types.Matches("Prefix/Typed/3.Test"));
  // Type-parameterized: "Prefix/Suite/Index.Name".
  const FilterPattern tp = MustParse("My/TypedP/?.*");
  EXPECT_TRUE(tp.Matches("My/TypedP/0.DoesIt"));
  EXPECT_FALSE(tp.Matches("My/TypedP/10.DoesIt"));
}

TEST(PatternTest, StarBacktracksToLastStar) {
  const FilterPattern p = MustParse("*ab*ab");
  EXPECT_TRUE(p.Matches("xabyab"));
  EXPECT_TRUE(p.Matches("aabab"));
  EXPECT_TRUE(p.Matches("abab"));
  EXPECT_FALSE(p.Matches("abxab_"));
  EXPECT_FALSE(p.Matches("ab"));
  const FilterPattern tail = MustParse("a*");
  EXPECT_TRUE(tail.Matches("a"));
  EXPECT_FALSE(tail.Matches("ba"));
  const FilterPattern stars = MustParse("a**?");
  EXPECT_TRUE(stars.Matches("ab"));
  EXPECT_FALSE(stars.Matches("a"));
}

// Found by tests/fuzz/fuzz_filter_pattern: a '*' facing a '*' in the name
// was taken as that literal character, so the star could no longer absorb
// the rest ("*" did not match "*x"). Names registered with
// testing::RegisterTest may hold any character.
TEST(PatternTest, StarFacingAStarInTheNameIsStillAWildcard) {
  EXPECT_TRUE(MustParse("*").Matches("*x"));
  EXPECT_TRUE(MustParse("-A.B").Matches("*.Name"));
  const FilterPattern p = MustParse("Net.*:Db.Slow");
  EXPECT_TRUE(p.Matches("Net.*"));
  EXPECT_TRUE(p.Matches("Net.*:Db.Slow"));
  EXPECT_TRUE(MustParse("A*B").Matches("A*xB"));
  EXPECT_TRUE(MustParse("A*?").Matches("A**"));
  EXPECT_FALSE(MustParse("A*B").Matches("A*x"));
}

TEST(PatternTest, PathologicalPatternCompletes) {
  // Naive recursive matching takes exponential time here; the
  // backtrack-to-last-star algorithm is O(|pattern| * |name|).
  const FilterPattern p = MustParse("*a*a*a*a*a*a*a*a*a*a*a*a*b");
  const std::string name(20000, 'a');
  EXPECT_FALSE(p.Matches(name));
  EXPECT_TRUE(p.Matches(name + "b"));
}

TEST(PatternTest, IsExact) {
  EXPECT_TRUE(MustParse("Suite.Name").is_exact());
  EXPECT_TRUE(MustParse("Inst/Suite.Name/0").is_exact());
  EXPECT_FALSE(MustParse("Suite.*").is_exact());
  EXPECT_FALSE(MustParse("Suite.Nam?").is_exact());
  EXPECT_FALSE(MustParse("A.B:C.D").is_exact());
  EXPECT_FALSE(MustParse("A.B-A.C").is_exact());
  EXPECT_FALSE(FilterPattern().is_exact());
}

TEST(PatternTest, DefaultConstructedMatchesNothing) {
  const FilterPattern p;
  EXPECT_FALSE(p.Matches("Suite.Name"));
  EXPECT_FALSE(p.Matches(""));
  EXPECT_EQ(p.text(), "");
}

struct BadCase {
  const char* text;
  const char* message_part;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << "pattern: " << ::testing::PrintToString(std::string(c.text));
}

class PatternRejectsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PatternRejectsTest, FailsWithReasonAndLeavesOutputAlone) {
  const BadCase& c = GetParam();
  FilterPattern pattern = MustParse("Keep.Me");
  std::string error;
  EXPECT_FALSE(FilterPattern::Parse(c.text, &pattern, &error))
      << "pattern '" << c.text << "'";
  EXPECT_THAT(error, HasSubstr(c.message_part)) << "pattern '" << c.text << "'";
  EXPECT_EQ(pattern.text(), "Keep.Me");
  EXPECT_TRUE(pattern.Matches("Keep.Me"));
}

INSTANTIATE_TEST_SUITE_P(
    Pattern, PatternRejectsTest,
    ::testing::Values(
        BadCase{"", "it is empty"}, BadCase{"A.B C.D", "a space at offset 3"},
        BadCase{" A.B", "a space at offset 0"},
        BadCase{"A.B\t", "whitespace or a control character at offset 3"},
        BadCase{"A.\nB", "whitespace or a control character at offset 2"},
        BadCase{"A.\x01", "control character"},
        BadCase{"A.\x7f", "control character"},
        BadCase{"A::B", "alternative 2 of the positive part is empty"},
        BadCase{"A:", "alternative 2 of the positive part is empty"},
        BadCase{":A", "alternative 1 of the positive part is empty"},
        BadCase{"A-", "alternative 1 of the negative part is empty"},
        BadCase{"-", "alternative 1 of the negative part is empty"},
        BadCase{"A-B:", "alternative 2 of the negative part is empty"},
        BadCase{"A-:B", "alternative 1 of the negative part is empty"},
        BadCase{":-B", "alternative 1 of the positive part is empty"},
        BadCase{"A-B-C", "more than one '-'"},
        BadCase{"--A", "more than one '-'"},
        BadCase{"A-B:C-D", "test names cannot contain '-'"}));

TEST(PatternTest, EmptyAlternativeMessageSaysWhereToLook) {
  FilterPattern pattern;
  std::string error;
  ASSERT_FALSE(FilterPattern::Parse("A::B", &pattern, &error));
  EXPECT_THAT(error, AllOf(HasSubstr("'::'"), HasSubstr("either end")));
}

}  // namespace
}  // namespace gtest_watchdog_internal
