// Tests for the --gtest_watchdog_list_timeouts rows
// (gtest_watchdog/config/timeout_list.h).
#include "gtest_watchdog/config/timeout_list.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/options.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TimeoutListTest : public ::testing::Test {
 protected:
  void Build(const std::string& toml) {
    std::string error;
    ASSERT_TRUE(ParseConfigText(toml, "w.toml", &file_, &error)) << error;
    LimitPlan::Inputs in;
    in.options = &options_;
    in.file = &file_;
    ASSERT_TRUE(plan_.Build(in, &error)) << error;
  }
  std::vector<std::string> Fields(const ListedTest& test) {
    const std::string row = TimeoutTsvRow(plan_, test);
    EXPECT_EQ(row.back(), '\n');
    return absl::StrSplit(row.substr(0, row.size() - 1), '\t');
  }

  Options options_;
  ConfigFile file_;
  LimitPlan plan_;
};

TEST_F(TimeoutListTest, TsvRowHasSevenFieldsWithExactSeconds) {
  Build(
      "timeout = \"1.5s\"\nsuite_timeout = \"2s\"\nenvironment_timeout = "
      "\"250ms\"\n[[override]]\nfilter = \"Db.*\"\ntimeout = \"0\"\n");
  EXPECT_THAT(Fields({"Bank", "Transfer", "", ""}),
              ElementsAre("Bank", "Transfer", "1.5", "6", "", "",
                          "timeout in w.toml:1"));
  // 0.25 + 2 + 1.5 + 2 + 0.25 s. Limit off: no bound either (no whole-run
  // limit).
  EXPECT_THAT(Fields({"Db", "Migrate", "", ""}),
              ElementsAre("Db", "Migrate", "0", "0", "", "",
                          HasSubstr("[[override]] \"Db.*\"")));
}

TEST_F(TimeoutListTest, ParametersAreKeptAndCannotBreakTheLine) {
  Build("timeout = \"90s\"\n");
  EXPECT_THAT(Fields({"Typed/0", "Works", "std::vector<int>", ""}),
              ElementsAre("Typed/0", "Works", "90", "450", "std::vector<int>",
                          "", "timeout in w.toml:1"));
  EXPECT_THAT(Fields({"Inst/Param", "Case/1", "", "\"a\tb\nc\rd\""}),
              ElementsAre("Inst/Param", "Case/1", "90", "450", "",
                          "\"a b c d\"", "timeout in w.toml:1"));
}

TEST_F(TimeoutListTest, NanosecondsAreNotRoundedAway) {
  Build(
      "timeout = \"1ns\"\nsuite_timeout = \"1s\"\nenvironment_timeout = "
      "\"1s\"\n");
  EXPECT_THAT(Fields({"A", "B", "", ""}),
              ElementsAre("A", "B", "0.000000001", "4.000000001", "", "",
                          "timeout in w.toml:1"));
}

TEST_F(TimeoutListTest, HeaderIsAComment) {
  EXPECT_THAT(TimeoutTsvHeader(), StartsWith("# suite\tname\tlimit_s\t"));
}

TEST_F(TimeoutListTest, TableRowSaysOffForNoLimit) {
  Build("[[override]]\nfilter = \"Fuzz.*\"\ntimeout = \"0\"\n");
  EXPECT_THAT(TimeoutTableRow(plan_, {"Fuzz", "Forever", "", ""}),
              HasSubstr(" off "));
  EXPECT_THAT(TimeoutTableRow(plan_, {"A", "B", "", ""}),
              HasSubstr("built-in default"));
}

}  // namespace
}  // namespace gtest_watchdog_internal
