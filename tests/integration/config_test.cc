// Where limits come from, end to end: annotations, the config file, flags,
// environment, scale, the whole-run limit, Bazel's TEST_TIMEOUT, slow-test
// warnings, the listing, the debugger stand-down and death tests. The
// program is tests/programs/config_program.cc; every test there takes a
// known time.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = TEST_DATA_DIR;

ChildResult RunConfig(const std::string& filter,
                      std::vector<std::string> args = {},
                      const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {CONFIG_PROGRAM, "--gtest_filter=" + filter};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunChild(argv, env);
}

void ExpectPassed(const ChildResult& r) {
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("[ TIMEOUT  ]")));
}

void ExpectAborted(const ChildResult& r) {
  EXPECT_TRUE(r.signaled) << r.out << r.err;
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_LT(r.seconds, kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ]"));
}

TEST(Config, AnnotatedSlowTestPassesWhileItsTwinIsAborted) {
  ExpectPassed(RunConfig("Annotated.Slow", {"--gtest_watchdog_timeout=1s"}));
  const ChildResult r =
      RunConfig("Unannotated.Slow", {"--gtest_watchdog_timeout=1s"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("Unannotated.Slow: test body still running"));
}

TEST(Config, AnnotationWithZeroSwitchesTheWatchdogOff) {
  ExpectPassed(RunConfig("Unlimited.Slow", {"--gtest_watchdog_timeout=1s"}));
}

TEST(Config, AnnotationMatchesParameterizedFullNames) {
  ExpectPassed(
      RunConfig("Inst/Param.Sleeps/0", {"--gtest_watchdog_timeout=1s"}));
}

TEST(Config, ConfigOverrideBeatsAnnotation) {
  const ChildResult r =
      RunConfig("Overridden.Slow",
                {"--gtest_watchdog_config=" + kData + "/override.toml"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("(limit 500 ms, from [[override]] "
                               "\"Overridden.*\" at "));
  EXPECT_THAT(r.err, HasSubstr("override.toml:4)"));
}

TEST(Config, ConfigFileTimeoutAppliesWhenNoFlagOrVariable) {
  const ChildResult r =
      RunConfig("Unannotated.Slow", {},
                {"GTEST_WATCHDOG_CONFIG=" + kData + "/override.toml"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("from timeout in "));
  EXPECT_THAT(r.err, HasSubstr("override.toml:2"));
}

TEST(Config, FlagBeatsEnvironmentBeatsConfigFile) {
  // File says 10 s, environment 1 s: the environment wins and fires.
  ChildResult r =
      RunConfig("Unannotated.Slow",
                {"--gtest_watchdog_config=" + kData + "/defaults.toml"},
                {"GTEST_WATCHDOG_TIMEOUT=1s"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("from GTEST_WATCHDOG_TIMEOUT)"));
  // ... and the flag beats the environment.
  r = RunConfig("Unannotated.Slow",
                {"--gtest_watchdog_config=" + kData + "/defaults.toml",
                 "--gtest_watchdog_timeout=5s"},
                {"GTEST_WATCHDOG_TIMEOUT=1s"});
  ExpectPassed(r);
}

TEST(Config, ScaleMultipliesEveryLimit) {
  ExpectPassed(RunConfig("Unannotated.Slow", {"--gtest_watchdog_timeout=0.5s",
                                              "--gtest_watchdog_scale=4"}));
  const ChildResult r =
      RunConfig("Unannotated.Slow",
                {"--gtest_watchdog_timeout=0.5s", "--gtest_watchdog_scale=2"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("(limit 1 s, from --gtest_watchdog_timeout, "
                               "scaled ×2 (--gtest_watchdog_scale))"));
}

TEST(Config, ScopedTimeoutGivesBackTheRemainingTime) {
  ExpectPassed(RunConfig("Scoped.SlowStretchDoesNotCount",
                         {"--gtest_watchdog_timeout=1s"}));
  const ChildResult r = RunConfig("Scoped.TimeAfterTheStretchStillCounts",
                                  {"--gtest_watchdog_timeout=1s"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("Scoped.TimeAfterTheStretchStillCounts: test "
                               "body still running"));
}

TEST(Config, ExtendTimeoutAddsTime) {
  ExpectPassed(
      RunConfig("Extended.ByTwoSeconds", {"--gtest_watchdog_timeout=1s"}));
}

TEST(Config, WholeRunLimitNamesTheRunningTest) {
  const ChildResult r =
      RunConfig("Total.*", {"--gtest_watchdog_total_timeout=1.5s"});
  ExpectAborted(r);
  EXPECT_GE(r.seconds, 1.4);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] the whole test run still running "
                               "after 1.5"));
  EXPECT_THAT(r.err, HasSubstr("from --gtest_watchdog_total_timeout); running "
                               "now: Total.Third: test body"));
}

TEST(Config, WholeRunLimitFailsTheRunningTestInTheXml) {
  // The tests go on passing while the report is written: the program is
  // held where it was, so the test running when the limit passed is the
  // one failed in the file, and the ones before keep their results.
  const std::string xml =
      testing::TempDir() + "config_total_" + std::to_string(getpid()) + ".xml";
  std::remove(xml.c_str());
  const ChildResult r = RunConfig(
      "Total.*",
      {"--gtest_watchdog_total_timeout=1.5s", "--gtest_output=xml:" + xml});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  std::ifstream in(xml);
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text, ContainsRegex("name=\"Third\"[^>]*>\\s*<failure "
                                  "message=\"[^\"]*the whole test run still "
                                  "running"));
  EXPECT_THAT(text, ContainsRegex("name=\"First\"[^>]*result=\"completed\""
                                  "[^>]*/>"));
  std::remove(xml.c_str());
}

TEST(Config, BazelTestTimeoutCapsTheWholeRun) {
  // TEST_TIMEOUT=3: the margin (at least 2 s) leaves half, 1.5 s.
  const ChildResult r = RunConfig("Total.*", {}, {"TEST_TIMEOUT=3"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("the whole test run still running after 1.5"));
  EXPECT_THAT(r.err,
              HasSubstr("from Bazel's TEST_TIMEOUT=3 minus a safety margin"));
  EXPECT_LT(r.seconds, 3.0);  // before Bazel would have sent SIGTERM
}

TEST(Config, SlowTestIsReportedOnceAndGoesOn) {
  const ChildResult r =
      RunConfig("Annotated.Slow", {"--gtest_watchdog_slow=0.3s"});
  ExpectPassed(r);
  EXPECT_THAT(r.err,
              HasSubstr("[  SLOW    ] Annotated.Slow still running after 0.3"));
  EXPECT_EQ(r.err.find("[  SLOW    ]"), r.err.rfind("[  SLOW    ]"));
}

TEST(Config, ListTimeoutsAsTsvGivesEachTestsLimitAndRunBound) {
  const ChildResult r =
      RunConfig("Annotated.*:Unlimited.*:Inst/Param.*",
                {"--gtest_watchdog_list_timeouts=tsv",
                 "--gtest_watchdog_timeout=2s", "--gtest_repeat=2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  // Five phases (2 + 2 + 5 + 2 + 2 s), twice; unlimited: no bound; the
  // parameter in its own column.
  EXPECT_THAT(r.out, HasSubstr("\nAnnotated\tSlow\t5\t26\t\t\t"
                               "GTEST_WATCHDOG_TIMEOUT(\"Annotated.Slow\") "
                               "at config_program.cc:"));
  EXPECT_THAT(r.out, HasSubstr("Unlimited\tSlow\t0\t0\t\t\t"));
  EXPECT_THAT(r.out, HasSubstr("Inst/Param\tSleeps/0\t"));
  EXPECT_THAT(r.out, testing::StartsWith("# suite\tname\tlimit_s\t"));
  EXPECT_THAT(r.out, Not(HasSubstr("Unannotated")));
}

TEST(Config, ListTimeoutsRefusesAFilterItCannotRead) {
  const ChildResult r =
      RunConfig("Annotated.*:", {"--gtest_watchdog_list_timeouts=tsv"});
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--gtest_filter: invalid value 'Annotated.*:'"));
  EXPECT_THAT(r.out, Not(HasSubstr("Annotated\tSlow")));
}

TEST(Config, OuterTimeoutEndsTheRunWithAReportBeforeTheOuterKill) {
  // The stretch in a ScopedTimeout may take 5 s, but an outer runner kills
  // the process at 3 s: the watchdog reports the whole run at 1.5 s.
  const ChildResult r = RunConfig(
      "Scoped.SlowStretchDoesNotCount",
      {"--gtest_watchdog_timeout=1s", "--gtest_watchdog_outer_timeout=3s"});
  EXPECT_TRUE(r.signaled);
  EXPECT_EQ(r.signal, SIGABRT);
  // Reported at 1.5 s, a little later on a loaded machine (1.51 s seen).
  EXPECT_THAT(r.err,
              ContainsRegex("\\[ TIMEOUT  \\] the whole test run still "
                            "running after 1\\.5[0-9] s \\(limit 1\\.5 s, "
                            "from --gtest_watchdog_outer_timeout=3s "
                            "minus a safety margin\\)"));
  EXPECT_LT(r.seconds, 20);
  // Without it the same test passes.
  ExpectPassed(RunConfig("Scoped.SlowStretchDoesNotCount",
                         {"--gtest_watchdog_timeout=1s"}));
}

TEST(Config, ListTimeoutsShowsEveryLimitAndItsSourceWithoutRunning) {
  const ChildResult r = RunConfig(
      "*", {"--gtest_watchdog_list_timeouts", "--gtest_watchdog_timeout=2s",
            "--gtest_watchdog_config=" + kData + "/override.toml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  EXPECT_THAT(r.out, testing::ContainsRegex(
                         "Overridden.Slow +500 ms +\\[\\[override\\]\\]"));
  EXPECT_THAT(
      r.out,
      testing::ContainsRegex(
          "Annotated.Slow +5 s +GTEST_WATCHDOG_TIMEOUT\\(\"Annotated.Slow\"\\) "
          "at config_program.cc:[0-9]+"));
  EXPECT_THAT(r.out, testing::ContainsRegex("Unlimited.Slow +off"));
  EXPECT_THAT(r.out, testing::ContainsRegex(
                         "Unannotated.Slow +2 s +--gtest_watchdog_timeout"));
  EXPECT_THAT(r.out, testing::ContainsRegex("Inst/Param.Sleeps/0 +4.5 s"));
  EXPECT_THAT(r.out, HasSubstr("(whole run)"));
}

TEST(Config, DebuggerAttachedMeansNoticeAndNoAbort) {
  if (access("/usr/bin/gdb", X_OK) != 0) GTEST_SKIP() << "gdb is not installed";
  const ChildResult r = RunChild(
      {"/usr/bin/gdb", "-batch", "-nx", "-ex", "run", "--args", CONFIG_PROGRAM,
       "--gtest_filter=Unannotated.Slow", "--gtest_watchdog_timeout=0.5s"});
  EXPECT_THAT(r.out + r.err,
              HasSubstr("Unannotated.Slow passed its limit of 0.50 s, "
                        "but a debugger is attached"));
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test"));
  EXPECT_THAT(r.err, Not(HasSubstr("[ ABORT")));
}

TEST(Config, DeathTestsOfBothStylesRaiseNoFalseAlarm) {
  const ChildResult r =
      RunConfig("DeathTests.*Passes", {"--gtest_watchdog_timeout=2s"});
  ExpectPassed(r);
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 2 tests"));
}

TEST(Config, AHangingDeathTestChildIsReportedByTheParentOnce) {
  const ChildResult r = RunConfig("DeathTests.ChildTakesTooLong",
                                  {"--gtest_watchdog_timeout=1s"});
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] DeathTests.ChildTakesTooLong"));
  EXPECT_EQ(r.err.find("[ TIMEOUT  ]"), r.err.rfind("[ TIMEOUT  ]"));
}

TEST(Config, SuiteSetUpHasItsOwnLimit) {
  const ChildResult r = RunChild(
      {STALL_PROGRAM, "--gtest_filter=HangInSetUpTestSuite.*",
       "--gtest_watchdog_timeout=30s", "--gtest_watchdog_suite_timeout=0.5s"});
  ExpectAborted(r);
  EXPECT_LT(r.seconds, 10);
  EXPECT_THAT(r.err, HasSubstr("HangInSetUpTestSuite: SetUpTestSuite() still "
                               "running after 0.5"));
  EXPECT_THAT(r.err, HasSubstr("from --gtest_watchdog_suite_timeout)"));
}

TEST(Config, SanitizerBuildsScaleEveryLimitByDefault) {
  // Without GTEST_WATCHDOG_SCALE (the harness normally pins it to 1).
  const ChildResult r =
      RunConfig("Annotated.Slow", {"--gtest_watchdog_list_timeouts"},
                {"GTEST_WATCHDOG_SCALE"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
#if defined(__SANITIZE_THREAD__)
  EXPECT_THAT(r.out, HasSubstr("scaled ×5 (ThreadSanitizer default)"));
#elif defined(__SANITIZE_ADDRESS__)
  EXPECT_THAT(r.out, HasSubstr("scaled ×2 (AddressSanitizer default)"));
#else
  EXPECT_THAT(r.out, Not(HasSubstr("scaled")));
#endif
}

TEST(Config, SanitizerNoticeIsOneLineAtStartUp) {
  const ChildResult r =
      RunConfig("Unlimited.Slow", {}, {"GTEST_WATCHDOG_SCALE"});
  ExpectPassed(r);
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  EXPECT_THAT(r.err, testing::ContainsRegex(
                         "\\[ WATCHDOG \\] [A-Za-z]+Sanitizer detected: every "
                         "limit is scaled by [0-9]+"));
#else
  EXPECT_THAT(r.err, Not(HasSubstr("detected")));
#endif
}

TEST(Config, ValgrindScalesEveryLimitByDefault) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "valgrind does not run sanitizer builds";
#endif
  if (access("/usr/bin/valgrind", X_OK) != 0) GTEST_SKIP() << "no valgrind";
  const ChildResult r = RunChild(
      {"/usr/bin/valgrind", "-q", CONFIG_PROGRAM,
       "--gtest_filter=Annotated.Slow", "--gtest_watchdog_list_timeouts"},
      {"GTEST_WATCHDOG_SCALE"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("scaled ×10 (valgrind default)"));
}

// --- bad configuration stops the program before any test runs ---

void ExpectRefused(const ChildResult& r,
                   const std::vector<std::string>& parts) {
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN")));
  for (const std::string& p : parts) EXPECT_THAT(r.err, HasSubstr(p));
}

TEST(ConfigErrors, MissingFile) {
  ExpectRefused(RunConfig("*", {"--gtest_watchdog_config=/nonexistent/w.toml"}),
                {"/nonexistent/w.toml", "No such file"});
}
// A FIFO nobody writes to hung start-up for ever; /dev/zero, read to the
// end, ended in std::bad_alloc. Both are refused at once.
TEST(ConfigErrors, FifoIsNotARegularFile) {
  char dir[] = "/tmp/config_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/w.toml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const ChildResult r = RunConfig("*", {"--gtest_watchdog_config=" + fifo});
  unlink(fifo.c_str());
  rmdir(dir);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_LT(r.seconds, kSlack);
  ExpectRefused(r, {"'" + fifo + "': not a regular file"});
}
TEST(ConfigErrors, DeviceIsNotARegularFile) {
  const ChildResult r = RunConfig("*", {}, {"GTEST_WATCHDOG_CONFIG=/dev/zero"});
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_LT(r.seconds, kSlack);
  ExpectRefused(r, {"'/dev/zero': not a regular file"});
}
TEST(ConfigErrors, UnknownKeyNamesFileLineAndKey) {
  ExpectRefused(
      RunConfig("*", {"--gtest_watchdog_config=" + kData + "/typo.toml"}),
      {"typo.toml:2", "unknown key 'timout'"});
}
TEST(ConfigErrors, SyntaxErrorNamesFileAndLine) {
  ExpectRefused(
      RunConfig("*", {}, {"GTEST_WATCHDOG_CONFIG=" + kData + "/syntax.toml"}),
      {"syntax.toml:2", "GTEST_WATCHDOG_CONFIG"});
}
TEST(ConfigErrors, BadScale) {
  ExpectRefused(RunConfig("*", {"--gtest_watchdog_scale=0"}),
                {"--gtest_watchdog_scale", "'0'", "greater than 0"});
  ExpectRefused(RunConfig("*", {}, {"GTEST_WATCHDOG_SCALE=fast"}),
                {"GTEST_WATCHDOG_SCALE", "'fast'"});
}
TEST(ConfigErrors, BadSlowAndTotal) {
  ExpectRefused(RunConfig("*", {"--gtest_watchdog_slow=soon"}),
                {"--gtest_watchdog_slow", "'soon'"});
  ExpectRefused(RunConfig("*", {"--gtest_watchdog_total_timeout=-1m"}),
                {"--gtest_watchdog_total_timeout", "'-1m'"});
}
TEST(ConfigErrors, BadBazelTestTimeout) {
  ExpectRefused(RunConfig("*", {}, {"TEST_TIMEOUT=soon"}),
                {"TEST_TIMEOUT", "'soon'"});
}
TEST(ConfigErrors, BadAnnotationPatternNamesFileAndLine) {
  const int line = MarkerLine(BAD_ANNOTATION_SOURCE, "bad");
  ASSERT_GT(line, 0);
  ExpectRefused(
      RunChild({BAD_ANNOTATION_PROGRAM}),
      {"bad_annotation_program.cc:" + std::to_string(line), "'Bad::Pat'"});
}
TEST(ConfigErrors, NegativeAnnotation) {
  ExpectRefused(RunChild({NEGATIVE_ANNOTATION_PROGRAM}),
                {"negative_annotation_program.cc", "negative"});
}

}  // namespace
}  // namespace gtest_watchdog_test
