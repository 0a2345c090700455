// Flags and environment at start-up: bad values stop the program before any
// test runs, with exit status 2 and a message naming the culprit; our flags
// never reach GoogleTest; every other argument does.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/config/options.h"

namespace gtest_watchdog_test {
namespace {

using ::gtest_watchdog_internal::FlagNames;
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

// What GoogleTest takes as a request for its help (1.12 to 1.18): --help,
// or an unknown --gtest_ flag in any of its spellings.
struct HelpArg {
  const char* name;
  const char* arg;
};

class HelpTest : public testing::TestWithParam<HelpArg> {};

// GoogleTest's help, then ours right after it on stdout, listing every flag
// and its variable; no test runs; exit status 0.
TEST_P(HelpTest, OursFollowsGoogleTestsAndNoTestRuns) {
  const ChildResult r = RunChild({CONFIG_PROGRAM, GetParam().arg});
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  EXPECT_THAT(r.out, Not(HasSubstr("[==========]")));
  EXPECT_THAT(r.err, Not(HasSubstr("WATCHDOG")));
  const size_t gtest = r.out.find("This program contains tests written using");
  const size_t ours = r.out.find("This program also uses gtest_watchdog");
  ASSERT_NE(gtest, std::string::npos) << r.out;
  ASSERT_NE(ours, std::string::npos) << r.out;
  // GoogleTest's help ends with its address; ours follows after one blank
  // line, and nothing after ours.
  EXPECT_LT(gtest, ours);
  EXPECT_EQ(r.out.substr(ours - 4, 4), ">.\n\n") << r.out;
  EXPECT_EQ(r.out.find("This program contains tests", ours), std::string::npos);
  const std::string help = r.out.substr(ours);
  EXPECT_THAT(help, HasSubstr("docs/flags.md"));
  ASSERT_FALSE(FlagNames().empty());
  for (const std::string& name : FlagNames()) {
    EXPECT_THAT(help, HasSubstr("  --gtest_watchdog_" + name));
    EXPECT_THAT(
        help, HasSubstr("(" + absl::AsciiStrToUpper("GTEST_WATCHDOG_" + name) +
                        ")\n"));
  }
}

INSTANTIATE_TEST_SUITE_P(Startup, HelpTest,
                         testing::Values(HelpArg{"Help", "--help"},
                                         HelpArg{"GtestHelp", "--gtest_help"},
                                         HelpArg{"OneDash", "-gtest_help"},
                                         HelpArg{"SlashAndDash",
                                                 "/gtest-help"}),
                         [](const testing::TestParamInfo<HelpArg>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(Startup, HelpAfterAnUnknownFlagInAFlagFile) {
  const std::string path = testing::TempDir() + "startup_help_flagfile";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("--gtest_filter=Total.First\n--gtest_bogus\n", f);
  std::fclose(f);
  const ChildResult r = RunChild({CONFIG_PROGRAM, "--gtest_flagfile=" + path});
  std::remove(path.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  EXPECT_THAT(r.out, HasSubstr("This program contains tests"));
  EXPECT_THAT(r.out, HasSubstr("This program also uses gtest_watchdog"));
}

// In colour when GoogleTest's help is, with GoogleTest's escapes.
TEST(Startup, HelpInColourLikeGoogleTests) {
  const ChildResult r =
      RunChild({CONFIG_PROGRAM, "--help", "--gtest_color=yes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\033[0;32m--gtest_list_tests\033[m"));
  EXPECT_THAT(r.out, HasSubstr("\033[0;32m--gtest_watchdog_timeout\033[m"
                               "\033[0;33m=DURATION\033[m"));
}

// -h, -? and /? are not help in GoogleTest 1.12 to 1.18 (its docs say they
// are): the tests run, and neither help is printed.
TEST(Startup, ShortHelpSpellingsRunTheTestsAsGoogleTestDoes) {
  for (const char* arg : {"-h", "-?", "/?"}) {
    SCOPED_TRACE(arg);
    const ChildResult r =
        RunChild({NO_FALSE_ALARM_PROGRAM, arg, "--gtest_filter=Plain.Quick"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("[       OK ] Plain.Quick"));
    EXPECT_THAT(r.out, Not(HasSubstr("This program contains tests")));
    EXPECT_THAT(r.out, Not(HasSubstr("gtest_watchdog_timeout")));
  }
}

}  // namespace
}  // namespace gtest_watchdog_test
