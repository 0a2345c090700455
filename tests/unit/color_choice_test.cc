#include "gtest_watchdog/report/color_choice.h"

#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

TEST(ReportUsesColorTest, ExplicitChoicesWin) {
  for (const char* yes : {"yes", "YES", "true", "t", "1"}) {
    EXPECT_TRUE(ReportUsesColor(yes, "1", nullptr, false)) << yes;
  }
  for (const char* no : {"no", "false", "0", "banana"}) {
    EXPECT_FALSE(ReportUsesColor(no, nullptr, "xterm", true)) << no;
  }
}

TEST(ReportUsesColorTest, AutoNeedsATerminalThatWantsColour) {
  EXPECT_TRUE(ReportUsesColor("auto", nullptr, "xterm-256color", true));
  EXPECT_TRUE(ReportUsesColor(nullptr, nullptr, "screen", true));
  EXPECT_FALSE(ReportUsesColor("auto", nullptr, "xterm", false));  // a pipe
  EXPECT_FALSE(ReportUsesColor("auto", nullptr, "dumb", true));
  EXPECT_FALSE(ReportUsesColor("auto", nullptr, nullptr, true));
  EXPECT_FALSE(ReportUsesColor("auto", nullptr, "", true));
}

TEST(ReportUsesColorTest, NoColorTurnsAutoOff) {
  EXPECT_FALSE(ReportUsesColor("auto", "1", "xterm", true));
  // An empty NO_COLOR is "unset" (no-color.org).
  EXPECT_TRUE(ReportUsesColor("auto", "", "xterm", true));
}

}  // namespace
}  // namespace gtest_watchdog_internal
