// Keep going (docs/keep-going.md), on a program whose tests end their
// process in every way (tests/programs/keep_going_program.cc): each such
// test fails alone, with what is known about it, the run goes on in a fresh
// process, and GoogleTest's console, exit status and XML/JSON output cover
// the whole run.
#include <signal.h>

#include <algorithm>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

namespace gi = ::gtest_watchdog_internal::gtest_internals;

constexpr char kEveryWay[] = "First.*:Stall.*:Crash.*:Exit.*:Kill.*:Last.*";

// Runs keep_going_program with keep going on, a 1 s limit and `args`.
ChildResult RunKeepGoing(std::vector<std::string> args,
                         std::vector<std::string> env = {},
                         bool keep_going = true) {
  std::vector<std::string> argv = {KEEP_GOING_PROGRAM,
                                   "--gtest_watchdog_timeout=1s"};
  if (keep_going) argv.push_back("--gtest_watchdog_keep_going");
  argv.insert(argv.end(), args.begin(), args.end());
  return RunChild(argv, env, 120);
}

// Every test case of `expected` is in `actual`, alike but for its times.
void ExpectSameCases(const std::string& expected, const std::string& actual) {
  const ChildResult c =
      RunChild({PYTHON3, COMPARE_GTEST_OUTPUTS, expected, actual});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_THAT(c.out, HasSubstr("OK\n")) << c.out << c.err;
}

// The tests GoogleTest started, in order ("[ RUN      ] X" lines).
std::vector<std::string> Started(const std::string& out) {
  std::vector<std::string> names;
  for (const std::string& line : Lines(out)) {
    if (line.rfind("[ RUN      ] ", 0) == 0) names.push_back(line.substr(13));
  }
  return names;
}

// Ended by the run itself (not the harness), with GoogleTest's status 1.
void ExpectRunFailed(const ChildResult& r) {
  EXPECT_FALSE(r.killed_by_harness) << r.out << r.err;
  EXPECT_FALSE(r.signaled) << "signal " << r.signal << "\n" << r.out << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

TEST(KeepGoing, EveryWayATestEndsItsProcessFailsItAloneAndTheRunGoesOn) {
  const std::string xml = TempPath("keep_going", "every_way.xml");
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=" + std::string(kEveryWay),
                    "--gtest_output=xml:" + xml});
  ExpectRunFailed(r);
  // A 1 s stall and three quick ends: far below one minute.
  EXPECT_LT(r.seconds, 1.0 * kSlack + 10) << r.out;
  // Each one is marked, with the verdict where a report gave one.
  EXPECT_THAT(r.out, HasSubstr("[ STALLED  ] Stall.WaitsForever: waiting for "
                               "a notify: "))
      << r.out;
  if (!kSanitizerOwnsFaults) {
    EXPECT_THAT(r.out, HasSubstr("[ CRASHED  ] Crash.Segfaults: crash: "))
        << r.out;
  }
  EXPECT_THAT(r.out, HasSubstr("[ EXITED   ] Exit.InTheMiddle: exited with "
                               "status 3, "))
      << r.out;
  EXPECT_THAT(
      r.out,
      ContainsRegex("\\[ KILLED   \\] Kill.Itself: was killed by "
                    "SIGKILL, [0-9.]+ s after it started, no report \\(out of "
                    "memory\\?\\); peak memory [0-9]+ MiB"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ KEEP GOING ] 4 stalls and crashes, each in "
                               "a process of its own; the run went on:"))
      << r.out;
  // GoogleTest's own summary covers the whole run.
  EXPECT_THAT(r.out, HasSubstr("[==========] 9 tests from 6 test suites ran."))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 3 tests.")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  FAILED  ] 5 tests, listed below:")) << r.out;
  // The tests after every end ran, once each.
  const std::vector<std::string> started = Started(r.out);
  for (const char* name :
       {"First.PassesWithAProperty", "Stall.WaitsForever", "Crash.Segfaults",
        "Exit.InTheMiddle", "Kill.Itself", "Last.Passes", "Last.AlsoPasses"}) {
    EXPECT_EQ(std::count(started.begin(), started.end(), name), 1)
        << name << "\n"
        << r.out;
  }
  // The stall's own report is on stderr, as without keep going.
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.WaitsForever: test body "
                               "still running after "))
      << r.err;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(
      xml, {"First.PassesWithAProperty=passed",
            "First.FailsAnExpectation=failed:a plain failure",
            "First.IsSkipped=skipped", "Stall.WaitsForever=failed",
            "Stall.WaitsForever=verdict:waiting for a notify",
            "Stall.WaitsForever=detail:Stack trace:",
            "Stall.WaitsForever=time>=0.9", "Crash.Segfaults=failed:SIGSEGV",
            "Exit.InTheMiddle=failed:exited with status 3",
            "Kill.Itself=failed:was killed by SIGKILL", "Last.Passes=passed",
            "Last.AlsoPasses=passed"});
}

TEST(KeepGoing, JsonOutputHoldsTheWholeRunToo) {
  const std::string json = TempPath("keep_going", "every_way.json");
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=Stall.*:Kill.*:Last.*:First.*",
                    "--gtest_output=json:" + json});
  ExpectRunFailed(r);
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(
      json, {"First.PassesWithAProperty=passed",
             "First.FailsAnExpectation=failed:a plain failure",
             "First.IsSkipped=skipped", "Stall.WaitsForever=failed",
             "Stall.WaitsForever=verdict:waiting for a notify",
             "Kill.Itself=failed:was killed by SIGKILL", "Last.Passes=passed",
             "Last.AlsoPasses=passed"});
}

// The tests that end normally have the same cases, results, failures and
// properties as in a run without keep going, in XML and in JSON.
TEST(KeepGoing, PassingTestsLookAsWithoutKeepGoing) {
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the files";
  for (const char* format : {"xml", "json"}) {
    SCOPED_TRACE(format);
    const std::string plain = TempPath("keep_going_plain", format);
    const std::string kept = TempPath("keep_going_kept", format);
    const std::string filter =
        "--gtest_filter=First.*:Last.*:Ten/Many.*:Death.*";
    // Death tests fork: about a second under ThreadSanitizer.
    const std::string limit = "--gtest_watchdog_timeout=30s";
    const ChildResult without = RunKeepGoing(
        {filter, limit, std::string("--gtest_output=") + format + ":" + plain},
        {},
        /*keep_going=*/false);
    const ChildResult with = RunKeepGoing(
        {filter, limit, std::string("--gtest_output=") + format + ":" + kept});
    EXPECT_EQ(without.exit_code, 1) << without.out;
    ExpectRunFailed(with);
    ExpectSameCases(plain, kept);
    ExpectSameCases(kept, plain);
  }
}

// SIGSTOP stops the child's watchdog too: the supervisor steps in after the
// limit and its margin, says what it saw from outside, and kills it.
TEST(KeepGoing, StoppedChildIsKilledByTheSupervisor) {
  const ChildResult r = RunKeepGoing({"--gtest_filter=Stop.*:Last.*"});
  ExpectRunFailed(r);
  // 1 s limit + 5 s margin.
  EXPECT_GE(r.seconds, 5.5) << r.out;
  EXPECT_LT(r.seconds, 6 + kSlack) << r.out;
  EXPECT_THAT(
      r.out,
      ContainsRegex("\\[ STALLED  \\] Stop.Itself: no report "
                    "[0-9.]+ s into a phase limited to [0-9.]+ s \\([0-9]+ "
                    "threads, all stopped \\(T\\)\\): the supervisor "
                    "killed it"))
      << r.out;
  EXPECT_THAT(r.err, HasSubstr("[ SUPERVISOR ] gtest_watchdog: the test "
                               "process gave no report"))
      << r.err;
  EXPECT_THAT(r.err, ContainsRegex("thread [0-9]+ \"keep_going_prog\": state "
                                   "T"))
      << r.err;
  // Each thread's stack, from outside (ptrace), unless ptrace is refused.
  EXPECT_THAT(r.err, ContainsRegex("thread [0-9]+, its stack:\n    #0 |"
                                   "\\(no stacks: "))
      << r.err;
  if (r.err.find("its stack:") != std::string::npos) {
    EXPECT_THAT(r.err, HasSubstr("raise")) << r.err;
  }
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 2 tests.")) << r.out;
}

// A stall in SetUpTestSuite fails that suite (its tests are skipped); one in
// TearDownTestSuite fails the suite after its tests passed; the run goes on.
TEST(KeepGoing, StallsInSuitePhasesFailTheirSuite) {
  const std::string xml = TempPath("keep_going", "suites.xml");
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=SetUpStalls.*:TearDownStalls.*:Last.*",
                    "--gtest_output=xml:" + xml});
  ExpectRunFailed(r);
  EXPECT_THAT(r.out, HasSubstr("[ STALLED  ] SetUpStalls (SetUpTestSuite): "
                               "waiting for a notify"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ STALLED  ] TearDownStalls "
                               "(TearDownTestSuite): waiting for a notify"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  FAILED  ] SetUpStalls: SetUpTestSuite or "
                               "TearDownTestSuite"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("2 FAILED TEST SUITES")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 3 tests.")) << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  std::vector<std::string> specs = {
      "SetUpStalls.One=skipped", "SetUpStalls.Two=skipped",
      "TearDownStalls.Runs=passed", "Last.Passes=passed",
      "Last.AlsoPasses=passed"};
  if (gi::SuiteFailuresInOutput()) {
    specs.push_back("SetUpStalls.=failed:SetUpStalls");
    specs.push_back("TearDownStalls.=failed:TearDownStalls");
  } else {
    specs.push_back("NonTestSuiteFailure.=failed:SetUpStalls");
  }
  ExpectGtestOutput(xml, specs);
}

// Every child would meet a stall in the global environment's SetUp: the
// run stops at the first, with every test "not run".
TEST(KeepGoing, StallInTheGlobalEnvironmentStopsTheRun) {
  const std::string xml = TempPath("keep_going", "environment.xml");
  const ChildResult r = RunKeepGoing(
      {"--gtest_filter=First.*:Last.*", "--gtest_output=xml:" + xml},
      {"KEEP_GOING_STALL_IN_ENVIRONMENT=1"});
  ExpectRunFailed(r);
  EXPECT_LT(r.seconds, 1.0 * kSlack + 5) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ STALLED  ] (the global environment's "
                               "SetUp): waiting for a notify"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ KEEP GOING ] every test process would meet "
                               "this: the run stops here"))
      << r.out;
  EXPECT_EQ(Started(r.out).size(), 0u) << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(
      xml,
      {"First.PassesWithAProperty=notrun", "First.FailsAnExpectation=notrun",
       "First.IsSkipped=notrun", "Last.Passes=notrun", "Last.AlsoPasses=notrun",
       "NonTestSuiteFailure.=failed:global test environment"});
}

// A stall in the global environment's TearDown, after every test ran, fails
// the program; the tests keep their results.
TEST(KeepGoing, StallInTheEnvironmentsTearDownFailsTheProgram) {
  const std::string xml = TempPath("keep_going", "teardown.xml");
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=Last.*", "--gtest_output=xml:" + xml},
                   {"KEEP_GOING_STALL_IN_ENVIRONMENT_TEARDOWN=1"});
  ExpectRunFailed(r);
  EXPECT_THAT(r.out, HasSubstr("[ STALLED  ] (the global environment's "
                               "TearDown): waiting for a notify"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 2 tests.")) << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(xml,
                    {"Last.Passes=passed", "Last.AlsoPasses=passed",
                     "NonTestSuiteFailure.=failed:global test environment"});
}

// After --gtest_watchdog_max_stalls stalls and crashes the run stops; the
// tests left are "not run".
TEST(KeepGoing, GuardRailStopsTheRun) {
  const std::string xml = TempPath("keep_going", "guard_rail.xml");
  const ChildResult r = RunKeepGoing(
      {"--gtest_filter=Exit.*:Kill.*:Crash.*:Last.*",
       "--gtest_watchdog_max_stalls=2", "--gtest_output=xml:" + xml});
  ExpectRunFailed(r);
  EXPECT_THAT(r.out, HasSubstr("[ KEEP GOING ] 2 stalls and crashes: the run "
                               "stops here (at most 2, from "
                               "--gtest_watchdog_max_stalls); 3 tests not run"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("the run stopped early (at most 2 stalls and "
                               "crashes)"))
      << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(xml, {"Crash.Segfaults=failed", "Exit.InTheMiddle=failed",
                          "Kill.Itself=notrun", "Last.Passes=notrun",
                          "Last.AlsoPasses=notrun"});
}

// The environment variable and the config file turn it on too.
TEST(KeepGoing, EnvironmentAndConfigFileTurnItOn) {
  const ChildResult by_env =
      RunKeepGoing({"--gtest_filter=Kill.*:Last.*"},
                   {"GTEST_WATCHDOG_KEEP_GOING=1"}, /*keep_going=*/false);
  ExpectRunFailed(by_env);
  EXPECT_THAT(by_env.out, HasSubstr("[  PASSED  ] 2 tests.")) << by_env.out;

  const std::string config = TempPath("keep_going", "config.toml");
  {
    FILE* f = fopen(config.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs("keep_going = true\nmax_stalls = 1\n", f);
    fclose(f);
  }
  const ChildResult by_file =
      RunKeepGoing({"--gtest_filter=Kill.*:Exit.*:Last.*",
                    "--gtest_watchdog_config=" + config},
                   {}, /*keep_going=*/false);
  ExpectRunFailed(by_file);
  EXPECT_THAT(by_file.out, HasSubstr("(at most 1, from " + config + ")"))
      << by_file.out;

  const ChildResult bad = RunKeepGoing({"--gtest_filter=Last.*"},
                                       {"GTEST_WATCHDOG_KEEP_GOING=maybe"},
                                       /*keep_going=*/false);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("GTEST_WATCHDOG_KEEP_GOING: invalid value "
                                 "'maybe'"))
      << bad.err;
  EXPECT_THAT(bad.out, Not(HasSubstr("[ RUN"))) << bad.out;
}

// Each suite's test names in an XML file, in the file's order.
std::map<std::string, std::vector<std::string>> XmlCasesBySuite(
    const std::string& path) {
  std::map<std::string, std::vector<std::string>> cases;
  const std::string xml = ReadFile(path);
  const std::regex testcase(
      "<testcase name=\"([^\"]*)\"[^>]*classname=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), testcase);
       it != std::sregex_iterator(); ++it) {
    cases[(*it)[2].str()].push_back((*it)[1].str());
  }
  return cases;
}

// The same order as without keep going for the same seed, also for the
// tests a fresh child runs after a crash.
TEST(KeepGoing, ShuffleKeepsGoogleTestsOrder) {
  const std::string plain_xml = TempPath("keep_going_shuffle_plain", "xml");
  const std::string kept_xml = TempPath("keep_going_shuffle_kept", "xml");
  const std::vector<std::string> args = {"--gtest_shuffle",
                                         "--gtest_random_seed=7"};
  std::vector<std::string> plain_args = args;
  plain_args.push_back("--gtest_filter=First.*:Last.*:Ten/Many.*:Order*");
  plain_args.push_back("--gtest_output=xml:" + plain_xml);
  const ChildResult without =
      RunKeepGoing(plain_args, {}, /*keep_going=*/false);
  std::vector<std::string> kept_args = args;
  kept_args.push_back("--gtest_filter=First.*:Last.*:Ten/Many.*:Order*:Kill.*");
  kept_args.push_back("--gtest_output=xml:" + kept_xml);
  const ChildResult with = RunKeepGoing(kept_args);
  ExpectRunFailed(with);
  std::vector<std::string> order = Started(with.out);
  order.erase(std::remove(order.begin(), order.end(), "Kill.Itself"),
              order.end());
  EXPECT_EQ(order, Started(without.out)) << with.out << without.out;
  EXPECT_EQ(order.size(), 18u) << with.out;
  EXPECT_THAT(with.out, HasSubstr("Note: Randomizing tests' orders with a "
                                  "seed of 7"))
      << with.out;
  // The XML too lists each suite's tests in the shuffled order (GoogleTest
  // writes it before it puts the order back); OrderDeathTest's suite is
  // shuffled apart, as GoogleTest does, which shifts every later draw. (The
  // suites' own order is not compared: GoogleTest 1.18 lists them shuffled
  // too, and a supervisor cannot reorder them: docs/keep-going.md.)
  std::map<std::string, std::vector<std::string>> kept_cases =
      XmlCasesBySuite(kept_xml);
  EXPECT_EQ(kept_cases["Kill"], std::vector<std::string>{"Itself"});
  kept_cases.erase("Kill");
  const std::map<std::string, std::vector<std::string>> plain_cases =
      XmlCasesBySuite(plain_xml);
  EXPECT_EQ(kept_cases, plain_cases) << ReadFile(kept_xml);
  ASSERT_EQ(plain_cases.size(), 4u) << ReadFile(plain_xml);
  // A shuffle that moved nothing would prove nothing.
  const std::vector<std::string>& many = plain_cases.at("Ten/Many");
  ASSERT_EQ(many.size(), 10u);
  EXPECT_FALSE(std::is_sorted(many.begin(), many.end())) << ReadFile(plain_xml);
}

// Sharding selects the same tests as without keep going.
TEST(KeepGoing, ShardsSelectAsGoogleTestDoes) {
  for (const char* index : {"0", "1", "2"}) {
    SCOPED_TRACE(index);
    const std::vector<std::string> env = {
        "GTEST_TOTAL_SHARDS=3", std::string("GTEST_SHARD_INDEX=") + index};
    const std::vector<std::string> args = {
        "--gtest_filter=First.*:Last.*:Ten/Many.*:Kill.*"};
    const ChildResult without = RunKeepGoing(args, env, /*keep_going=*/false);
    const ChildResult with = RunKeepGoing(args, env);
    std::vector<std::string> plain = Started(without.out);
    // Without keep going the run ends at Kill.Itself, if this shard has it.
    std::vector<std::string> kept = Started(with.out);
    kept.resize(std::min(kept.size(), plain.size()));
    EXPECT_EQ(kept, plain) << with.out << without.out;
    EXPECT_FALSE(with.signaled) << with.out;
    EXPECT_THAT(with.out,
                HasSubstr(std::string("Note: This is test shard ") +
                          std::to_string(std::stoi(index) + 1) + " of 3."))
        << with.out;
  }
}

// --gtest_repeat: every iteration runs whole, crash and all.
TEST(KeepGoing, RepeatRunsEveryIterationWhole) {
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=Kill.*:Last.*", "--gtest_repeat=2"});
  ExpectRunFailed(r);
  EXPECT_THAT(r.out, HasSubstr("Repeating all tests (iteration 2)")) << r.out;
  const std::vector<std::string> started = Started(r.out);
  EXPECT_EQ(std::count(started.begin(), started.end(), "Kill.Itself"), 2)
      << r.out;
  EXPECT_EQ(std::count(started.begin(), started.end(), "Last.Passes"), 2)
      << r.out;
}

// --gtest_fail_fast stops as GoogleTest stops: the tests after the first
// failure are skipped.
TEST(KeepGoing, FailFastSkipsTheRest) {
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=Kill.*:Last.*", "--gtest_fail_fast"});
  ExpectRunFailed(r);
  EXPECT_THAT(Started(r.out), ::testing::ElementsAre("Kill.Itself")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  SKIPPED ] 2 tests, listed below:")) << r.out;
}

// Death tests of both styles run in the children as usual.
TEST(KeepGoing, DeathTestsOfBothStylesWork) {
  for (const char* style : {"fast", "threadsafe"}) {
    SCOPED_TRACE(style);
    // A death test forks: under ThreadSanitizer that alone takes about a
    // second, beyond the 1 s limit the other cases use.
    const ChildResult r = RunKeepGoing(
        {"--gtest_filter=Death.*:Kill.*:Last.*", "--gtest_watchdog_timeout=30s",
         std::string("--gtest_death_test_style=") + style});
    ExpectRunFailed(r);
    EXPECT_THAT(r.out, HasSubstr("[       OK ] Death.BothStyles")) << r.out;
    EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 3 tests.")) << r.out;
  }
}

// A SIGTERM sent to the supervisor alone reaches the test too; the run
// stops, the output is written, and the supervisor ends by SIGTERM.
TEST(KeepGoing, SigtermStopsTheRunAndEndsByIt) {
  const std::string xml = TempPath("keep_going", "sigterm.xml");
  const ChildResult r = RunChildAndSignal(
      {KEEP_GOING_PROGRAM, "--gtest_watchdog_keep_going",
       "--gtest_filter=First.*:Signal.*:Last.*", "--gtest_output=xml:" + xml},
      {}, "waiting for a signal", SIGTERM, 60);
  EXPECT_FALSE(r.killed_by_harness) << r.out << r.err;
  EXPECT_TRUE(r.signaled) << r.out << r.err;
  EXPECT_EQ(r.signal, SIGTERM) << r.out << r.err;
  EXPECT_LT(r.seconds, 30) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ STOPPED  ] Signal.WaitsAfterSayingSo: was "
                               "killed by SIGTERM"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ KEEP GOING ] interrupted by SIGTERM: the "
                               "run stops here"))
      << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(
      xml, {"First.PassesWithAProperty=passed",
            "First.FailsAnExpectation=failed", "First.IsSkipped=skipped",
            "Signal.WaitsAfterSayingSo=failed:killed by SIGTERM",
            "Last.Passes=notrun", "Last.AlsoPasses=notrun"});
}

// --gtest_watchdog_retries: a test whose process ended early runs again in
// a fresh one; passing then, it is flaky: passed, with a summary line and a
// property. One that keeps dying fails with every attempt's story.
TEST(KeepGoing, RetriesRunATestAgainAndMarkItFlaky) {
  const std::string mark = TempPath("keep_going", "flaky_mark");
  const std::string xml = TempPath("keep_going", "retries.xml");
  const ChildResult r =
      RunKeepGoing({"--gtest_filter=Flaky.*:Kill.*:Last.*",
                    "--gtest_watchdog_retries=2", "--gtest_output=xml:" + xml},
                   {"KEEP_GOING_FLAKY_MARK=" + mark});
  ExpectRunFailed(r);  // Kill.Itself dies every time
  EXPECT_THAT(r.out, HasSubstr("[ RETRY    ] Flaky.DiesOnce: attempt 2 of 3, "
                               "in a fresh process"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ FLAKY    ] Flaky.DiesOnce: passed on "
                               "attempt 2 (attempt 1: KILLED: was killed by "
                               "SIGKILL"))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[ RETRY    ] Kill.Itself: attempt 3 of 3"))
      << r.out;
  const std::vector<std::string> started = Started(r.out);
  EXPECT_EQ(std::count(started.begin(), started.end(), "Flaky.DiesOnce"), 2)
      << r.out;
  EXPECT_EQ(std::count(started.begin(), started.end(), "Kill.Itself"), 3)
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 3 tests.")) << r.out;
  const std::string file = ReadFile(xml);
  EXPECT_THAT(file, HasSubstr("<property name=\"gtest_watchdog_flaky\" "
                              "value=\"attempt 1: KILLED: was killed by "
                              "SIGKILL"))
      << file;
  EXPECT_THAT(file, HasSubstr("<property name=\"gtest_watchdog_attempts\" "
                              "value=\"3\"/>"))
      << file;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(xml,
                    {"Flaky.DiesOnce=passed",
                     "Kill.Itself=failed:earlier attempts: attempt 1: KILLED",
                     "Last.Passes=passed", "Last.AlsoPasses=passed"});
}

// --gtest_watchdog_report holds every stall and crash of the run: each with
// where, how the process ended, the verdict, and the child's own report
// where it wrote one; valid against docs/report.schema.json.
TEST(KeepGoing, JsonReportHoldsEveryStallAndCrash) {
  const std::string json = TempPath("keep_going", "report.json");
  const ChildResult r = RunKeepGoing(
      {"--gtest_filter=Stall.*:Crash.*:Kill.*:SetUpStalls.*:Last.*",
       "--gtest_watchdog_report=" + json});
  ExpectRunFailed(r);
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  std::vector<std::string> argv = {
      PYTHON3,       VALIDATE_JSON_REPORT,
      REPORT_SCHEMA, json,
      "--expect",    "schema_version=4",
      "--expect",    "kind=keep-going",
      "--expect",    "incidents.0.where=test",
      "--expect",    "incidents.0.test=Stall.WaitsForever",
      "--expect",    "incidents.0.label=stalled",
      "--expect",    "incidents.0.report.kind=timeout",
      "--expect",    "incidents.0.report.test=Stall.WaitsForever",
      "--expect",    "incidents.1.test=Crash.Segfaults",
      "--expect",    "incidents.1.report.kind=crash",
      "--expect",    "incidents.2.test=Kill.Itself",
      "--expect",    "incidents.2.label=killed",
      "--expect",    "incidents.2.report=null",
      "--expect",    "incidents.2.verdict=null",
      "--expect",    "incidents.3.where=suite-setup",
      "--expect",    "incidents.3.suite=SetUpStalls",
      "--expect",    "incidents.3.report.phase=suite-setup"};
  const ChildResult v = RunChild(argv);
  if (v.exit_code == 3) GTEST_SKIP() << "no jsonschema module: " << v.err;
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err << ReadFile(json);
}

// The whole-run limit bounds the whole keep-going run, not each child: the
// child that meets it reports a whole-run timeout, and no child starts
// after it.
TEST(KeepGoing, WholeRunLimitBoundsTheRun) {
  const std::string xml = TempPath("keep_going", "total.xml");
  const ChildResult r = RunChild(
      {KEEP_GOING_PROGRAM, "--gtest_watchdog_keep_going",
       "--gtest_watchdog_timeout=60s", "--gtest_watchdog_total_timeout=2s",
       "--gtest_filter=First.*:Stall.*:Last.*", "--gtest_output=xml:" + xml},
      {}, 120);
  ExpectRunFailed(r);
  EXPECT_GE(r.seconds, 1.9) << r.out;
  EXPECT_LT(r.seconds, 2 * kSlack) << r.out;
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] the whole test run still running "
                               "after "))
      << r.err;
  // Scaled under a sanitizer: "(2.0 s" or "(10.0 s".
  EXPECT_THAT(r.out,
              ContainsRegex("\\[ KEEP GOING \\] the whole run's limit "
                            "\\([0-9.]+ s, from "
                            "--gtest_watchdog_total_timeout\\) is spent: "
                            "the run stops here; 2 tests not run"))
      << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(
      xml,
      {"First.PassesWithAProperty=passed", "First.FailsAnExpectation=failed",
       "First.IsSkipped=skipped", "Stall.WaitsForever=failed:whole test run",
       "Last.Passes=notrun", "Last.AlsoPasses=notrun"});
}

// The pids that said `what` ("custom_main: WHAT in PID" lines), in order.
std::vector<std::string> SaidIn(const std::string& out,
                                const std::string& what) {
  std::vector<std::string> pids;
  const std::regex line("custom_main: " + what + " in ([0-9]+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line);
       it != std::sregex_iterator(); ++it) {
    pids.push_back((*it)[1].str());
  }
  return pids;
}

// A custom main() (docs/keep-going.md "A custom main()"): the code around
// RUN_ALL_TESTS() runs in the supervisor and in each child; the global
// environment and the tests only in the children; the listener gets the
// tests' events in the children and the whole run's end in the
// supervisor, whose RUN_ALL_TESTS() gives the run's status.
TEST(KeepGoing, CustomMainRunsAsDocumented) {
  const std::string xml = TempPath("keep_going_custom_main", "xml");
  const ChildResult r =
      RunChild({KEEP_GOING_CUSTOM_MAIN_PROGRAM, "--gtest_watchdog_timeout=10s",
                "--gtest_watchdog_keep_going", "--gtest_output=xml:" + xml},
               {}, 120);
  ExpectRunFailed(r);
  // The supervisor is the process whose RUN_ALL_TESTS() ends last.
  const std::vector<std::string> returned =
      SaidIn(r.out, "RUN_ALL_TESTS gave [01]");
  ASSERT_FALSE(returned.empty()) << r.out;
  const std::string supervisor = returned.back();
  EXPECT_THAT(r.out,
              HasSubstr("custom_main: RUN_ALL_TESTS gave 1 in " + supervisor))
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("custom_main: listener: program end in " +
                               supervisor + ", 1 failed"))
      << r.out;
  // Two children: the first killed itself in Custom.KillsItself, the
  // second ran Custom.AlsoPasses. Each ran main() from the start.
  const std::vector<std::string> before =
      SaidIn(r.out, "before InitGoogleTest");
  ASSERT_EQ(before.size(), 3u) << r.out;
  EXPECT_EQ(before[0], supervisor) << r.out;
  const std::vector<std::string> children = {before[1], before[2]};
  EXPECT_NE(children[0], children[1]) << r.out;
  EXPECT_EQ(SaidIn(r.out, "environment set up"), children) << r.out;
  EXPECT_EQ(SaidIn(r.out, "listener: program start"),
            (std::vector<std::string>{supervisor, children[0], children[1]}))
      << r.out;
  // The killed child never tore its environment down; the second did.
  EXPECT_EQ(SaidIn(r.out, "environment torn down"),
            std::vector<std::string>{children[1]})
      << r.out;
  // Two tests ended in the first child (Passes; KillsItself never ended),
  // one in the second; none in the supervisor.
  EXPECT_EQ(SaidIn(r.out, "listener: test end"),
            (std::vector<std::string>{children[0], children[1]}))
      << r.out;
  EXPECT_EQ(SaidIn(r.out, "RUN_ALL_TESTS gave 0"),
            std::vector<std::string>{children[1]})
      << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 2 tests.")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("[  FAILED  ] Custom.KillsItself")) << r.out;
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectGtestOutput(xml, {"Custom.Passes=passed",
                          "Custom.KillsItself=failed:was killed by SIGKILL",
                          "Custom.AlsoPasses=passed"});
}

// Listing runs nothing and lists as GoogleTest does.
TEST(KeepGoing, ListingIsGoogleTests) {
  const std::vector<std::string> args = {"--gtest_list_tests",
                                         "--gtest_filter=First.*:Kill.*"};
  const ChildResult without = RunKeepGoing(args, {}, /*keep_going=*/false);
  const ChildResult with = RunKeepGoing(args);
  EXPECT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.out, without.out);
  EXPECT_THAT(with.out, HasSubstr("Kill.\n  Itself\n")) << with.out;
}

}  // namespace
}  // namespace gtest_watchdog_test
