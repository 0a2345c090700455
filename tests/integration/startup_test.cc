// Flags and environment at start-up: bad values stop the program before any
// test runs, with exit status 2 and a message naming the culprit; our flags
// never reach GoogleTest; every other argument does.
#include <string>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct BadInput {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<std::string> message_parts;
};

class BadInputTest : public testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, StopsBeforeAnyTestWithAClearMessage) {
  const BadInput& c = GetParam();
  std::vector<std::string> argv = {NO_FALSE_ALARM_PROGRAM};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  const ChildResult r = RunChild(argv, c.env);
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  EXPECT_THAT(r.err, HasSubstr("gtest_watchdog: "));
  for (const std::string& part : c.message_parts) {
    EXPECT_THAT(r.err, HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Startup, BadInputTest,
    testing::Values(BadInput{"FlagBanana",
                             {"--gtest_watchdog_timeout=banana"},
                             {},
                             {"--gtest_watchdog_timeout", "'banana'"}},
                    BadInput{"FlagNegative",
                             {"--gtest_watchdog_timeout=-5s"},
                             {},
                             {"--gtest_watchdog_timeout", "'-5s'", "negative"}},
                    BadInput{"FlagEmpty",
                             {"--gtest_watchdog_timeout="},
                             {},
                             {"--gtest_watchdog_timeout", "empty"}},
                    BadInput{"FlagOverflow",
                             {"--gtest_watchdog_timeout=99999999999999h"},
                             {},
                             {"--gtest_watchdog_timeout", "'99999999999999h'"}},
                    BadInput{"FlagWithoutValue",
                             {"--gtest_watchdog_timeout"},
                             {},
                             {"--gtest_watchdog_timeout", "needs a value"}},
                    BadInput{"EnvBanana",
                             {},
                             {"GTEST_WATCHDOG_TIMEOUT=banana"},
                             {"GTEST_WATCHDOG_TIMEOUT", "'banana'"}},
                    BadInput{"EnvNegative",
                             {},
                             {"GTEST_WATCHDOG_TIMEOUT=-5s"},
                             {"GTEST_WATCHDOG_TIMEOUT", "'-5s'"}},
                    BadInput{"EnvEmpty",
                             {},
                             {"GTEST_WATCHDOG_TIMEOUT="},
                             {"GTEST_WATCHDOG_TIMEOUT", "empty"}},
                    BadInput{"EnvOverflow",
                             {},
                             {"GTEST_WATCHDOG_TIMEOUT=1e30"},
                             {"GTEST_WATCHDOG_TIMEOUT", "'1e30'"}},
                    BadInput{"UnknownFlag",
                             {"--gtest_watchdog_bogus=1"},
                             {},
                             {"unknown flag '--gtest_watchdog_bogus=1'"}}),
    [](const testing::TestParamInfo<BadInput>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(Startup, OurFlagIsRemovedAndOtherArgumentsReachGoogleTest) {
  const ChildResult r =
      RunChild({NO_FALSE_ALARM_PROGRAM, "--gtest_watchdog_timeout=5s",
                "--gtest_list_tests", "--gtest_filter=Plain.*"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Plain.\n  Quick"));
  EXPECT_THAT(r.out, Not(HasSubstr("Fixture.")));  // the filter arrived
  // GoogleTest prints its help for an unknown --gtest_ flag: ours must not be.
  EXPECT_THAT(r.out, Not(HasSubstr("This program contains tests")));
}

TEST(Startup, FlagWinsOverEnvironmentAndZeroSwitchesOff) {
  // The environment asks for a tiny limit, the flag switches the watchdog
  // off: a test that sleeps a while must pass.
  const ChildResult r =
      RunChild({STALL_PROGRAM, "--gtest_filter=Stall.TakesAWhile",
                "--gtest_watchdog_timeout=0"},
               {"GTEST_WATCHDOG_TIMEOUT=0.1s"});
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("TIMEOUT")));
}

TEST(Startup, EnvironmentZeroSwitchesOff) {
  const ChildResult r =
      RunChild({STALL_PROGRAM, "--gtest_filter=Stall.TakesAWhile"},
               {"GTEST_WATCHDOG_TIMEOUT=0"});
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Startup, FlagWinsOverEnvironment) {
  const ChildResult r =
      RunChild({STALL_PROGRAM, "--gtest_filter=Stall.TakesAWhile",
                "--gtest_watchdog_timeout=0.2s"},
               {"GTEST_WATCHDOG_TIMEOUT=30s"});
  EXPECT_TRUE(r.signaled) << r.err;
  EXPECT_THAT(r.err, HasSubstr("from --gtest_watchdog_timeout"));
}

}  // namespace
}  // namespace gtest_watchdog_test
