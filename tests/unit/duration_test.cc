// Tests for ParseDuration and FormatLimit (gtest_watchdog/config/duration.h).

#include "gtest_watchdog/config/duration.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct AcceptCase {
  const char* text;
  absl::Duration expected;
};

class ParseDurationAcceptsTest : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(ParseDurationAcceptsTest, ParsesToExpectedDuration) {
  const AcceptCase& c = GetParam();
  absl::Duration d = absl::Seconds(-12345);  // sentinel: must be overwritten
  std::string error;
  ASSERT_TRUE(ParseDuration(c.text, &d, &error))
      << "text '" << c.text << "' error: " << error;
  EXPECT_EQ(d, c.expected) << "text '" << c.text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ParseDurationAcceptsTest,
    ::testing::Values(
        AcceptCase{"90s", absl::Seconds(90)},
        AcceptCase{"1.5s", absl::Milliseconds(1500)},
        AcceptCase{"250ms", absl::Milliseconds(250)},
        AcceptCase{"2m", absl::Minutes(2)}, AcceptCase{"1h", absl::Hours(1)},
        AcceptCase{"1m30s", absl::Seconds(90)},
        AcceptCase{"90", absl::Seconds(90)},
        AcceptCase{"0.5", absl::Milliseconds(500)},
        AcceptCase{"0", absl::ZeroDuration()},
        AcceptCase{"0s", absl::ZeroDuration()},
        AcceptCase{"  90s  ", absl::Seconds(90)},
        AcceptCase{"\t250ms\n", absl::Milliseconds(250)},
        AcceptCase{" 90 ", absl::Seconds(90)},
        // 100 years is the documented-in-code ceiling; exactly that is fine.
        AcceptCase{"876000h", absl::Hours(876000)}));

class ParseDurationRejectsTest : public ::testing::TestWithParam<const char*> {
};

TEST_P(ParseDurationRejectsTest, FailsWithMessageAndLeavesOutputAlone) {
  const char* text = GetParam();
  const absl::Duration sentinel = absl::Seconds(4242);
  absl::Duration d = sentinel;
  std::string error;
  EXPECT_FALSE(ParseDuration(text, &d, &error)) << "text '" << text << "'";
  EXPECT_THAT(error, Not(IsEmpty())) << "text '" << text << "'";
  EXPECT_EQ(d, sentinel) << "text '" << text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, ParseDurationRejectsTest,
    ::testing::Values("banana", "-5s", "-5", "-0", "", "   ", "inf", "nan",
                      "Inf", "infs", "1e400", "1e3", "99999999999999h",
                      "876001h", "999999999999999999999999s", "+5s", "+5",
                      "5 s", "1 m 30 s", "0x10", "0x10s", "s", "ms", "5x",
                      "5sec", "1.5.5s"));

TEST(ParseDurationTest, NegativeErrorMentionsNegative) {
  absl::Duration d;
  std::string error;
  ASSERT_FALSE(ParseDuration("-5s", &d, &error));
  EXPECT_THAT(error, HasSubstr("negative"));
  error.clear();
  ASSERT_FALSE(ParseDuration("  -1", &d, &error));
  EXPECT_THAT(error, HasSubstr("negative"));
}

TEST(ParseDurationTest, EmptyErrorMentionsEmpty) {
  absl::Duration d;
  std::string error;
  ASSERT_FALSE(ParseDuration("", &d, &error));
  EXPECT_THAT(error, HasSubstr("empty"));
  error.clear();
  ASSERT_FALSE(ParseDuration(" \t ", &d, &error));
  EXPECT_THAT(error, HasSubstr("empty"));
}

TEST(ParseDurationTest, GarbageErrorShowsAnExample) {
  absl::Duration d;
  std::string error;
  ASSERT_FALSE(ParseDuration("banana", &d, &error));
  EXPECT_THAT(error, HasSubstr("90s"));
}

TEST(ParseDurationTest, OverflowErrorSaysTooLarge) {
  absl::Duration d;
  std::string error;
  ASSERT_FALSE(ParseDuration("99999999999999h", &d, &error));
  EXPECT_THAT(error, HasSubstr("too large"));
}

// A number after a unit is not a bare number of seconds, but ParseDuration
// appends "s" to any text ending in a digit: "5s5" becomes "5s5s" = 10 s and
// "1h30" becomes 1 h 30 s (surely meant as 1 h 30 min).
TEST(ParseDurationTest, RejectsNumberWithoutUnitAfterAUnit) {
  for (const char* text : {"5s5", "1h30", "1m30"}) {
    absl::Duration d = absl::ZeroDuration();
    std::string error;
    EXPECT_FALSE(ParseDuration(text, &d, &error))
        << "'" << text << "' parsed as " << absl::FormatDuration(d);
  }
}

TEST(ParseDurationTest, AcceptsStringViewThatIsNotNulTerminated) {
  const char buffer[] = "250ms999";
  absl::Duration d;
  std::string error;
  ASSERT_TRUE(ParseDuration(absl::string_view(buffer, 5), &d, &error)) << error;
  EXPECT_EQ(d, absl::Milliseconds(250));
}

struct FormatCase {
  absl::Duration d;
  const char* expected;
};

class FormatLimitTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatLimitTest, FormatsForHumans) {
  EXPECT_EQ(FormatLimit(GetParam().d), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FormatLimitTest,
    ::testing::Values(FormatCase{absl::Seconds(1), "1 s"},
                      FormatCase{absl::Milliseconds(1500), "1.5 s"},
                      FormatCase{absl::Milliseconds(250), "250 ms"},
                      FormatCase{absl::Minutes(2), "2 min"},
                      FormatCase{absl::Seconds(90), "1 min 30 s"},
                      FormatCase{absl::Hours(1), "1 h"},
                      FormatCase{absl::Seconds(59), "59 s"},
                      FormatCase{absl::Seconds(3600 + 60 + 1), "1 h 1 min 1 s"},
                      FormatCase{absl::Seconds(3600 + 5), "1 h 5 s"},
                      FormatCase{absl::Hours(25), "25 h"}));

TEST(FormatLimitTest, FormatsWhatParseDurationParsed) {
  absl::Duration d;
  std::string error;
  ASSERT_TRUE(ParseDuration("1m30s", &d, &error)) << error;
  EXPECT_EQ(FormatLimit(d), "1 min 30 s");
  ASSERT_TRUE(ParseDuration("0.25", &d, &error)) << error;
  EXPECT_EQ(FormatLimit(d), "250 ms");
}

}  // namespace
}  // namespace gtest_watchdog_internal
