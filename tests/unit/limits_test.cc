// Tests for the limit plan (gtest_watchdog/config/limits.h): precedence of
// the limit sources, scale, phase and whole-run limits, the Bazel cap,
// annotation errors, the idle wake-up interval and runtime detection.

#include "gtest_watchdog/config/limits.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/config/config_file.h"
#include "gtest_watchdog/config/options.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StrEq;

constexpr char kPath[] = "cfg.toml";
constexpr char kFlagOrigin[] = "--gtest_watchdog_timeout";
constexpr char kEnvOrigin[] = "GTEST_WATCHDOG_TIMEOUT";
constexpr int64_t kSecond = 1000000000;
constexpr int64_t kHundredYearsNs = int64_t{100} * 365 * 24 * 3600 * kSecond;

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

ConfigFile MustParse(const std::string& text) {
  ConfigFile config;
  std::string error;
  EXPECT_TRUE(ParseConfigText(text, kPath, &config, &error))
      << error << "\n--- text:\n"
      << text;
  return config;
}

Annotation Ann(const std::string& pattern, absl::Duration limit,
               const std::string& file, int line) {
  return {pattern, static_cast<long double>(Ns(limit)), file, line};
}

// As ExtractOptions leaves them for --gtest_watchdog_timeout.
void SetFlagTimeout(Options* o, absl::Duration d) {
  o->timeout = d;
  o->timeout_source = Source::kFlag;
  o->timeout_origin = kFlagOrigin;
}

// As ExtractOptions leaves them for GTEST_WATCHDOG_TIMEOUT.
void SetEnvTimeout(Options* o, absl::Duration d) {
  o->timeout = d;
  o->timeout_source = Source::kEnvironment;
  o->timeout_origin = kEnvOrigin;
}

template <typename T>
Given<T> MakeGiven(T value, const std::string& origin) {
  Given<T> g;
  g.value = value;
  g.origin = origin;
  return g;
}

// Builds a plan that must succeed.
void MustBuild(LimitPlan* plan, const LimitPlan::Inputs& inputs) {
  std::string error;
  ASSERT_TRUE(plan->Build(inputs, &error)) << error;
  EXPECT_THAT(error, IsEmpty());
}

// Builds a plan that must fail; returns the error.
std::string BuildError(const LimitPlan::Inputs& inputs) {
  LimitPlan plan;
  std::string error;
  EXPECT_FALSE(plan.Build(inputs, &error));
  EXPECT_THAT(error, Not(IsEmpty()));
  return error;
}

// ---------------------------------------------------------------------------
// Precedence, as a table.

struct PrecedenceCase {
  explicit PrecedenceCase(std::string l) : label(std::move(l)) {}

  PrecedenceCase& Toml(std::string t) {
    toml = std::move(t);
    return *this;
  }
  PrecedenceCase& Annotate(const std::string& pattern, absl::Duration limit,
                           const std::string& file, int line) {
    annotations.push_back(Ann(pattern, limit, file, line));
    return *this;
  }
  PrecedenceCase& Flag(absl::Duration d) {
    flag = d;
    return *this;
  }
  PrecedenceCase& Env(absl::Duration d) {
    env = d;
    return *this;
  }
  PrecedenceCase& Expect(std::string name, absl::Duration limit,
                         std::string origin_part) {
    test_name = std::move(name);
    want = limit;
    want_origin = std::move(origin_part);
    return *this;
  }

  std::string label;
  std::string toml;  // "": no config file
  std::vector<Annotation> annotations;
  std::optional<absl::Duration> flag;
  std::optional<absl::Duration> env;
  std::string test_name;
  absl::Duration want;
  std::string want_origin;
};

void PrintTo(const PrecedenceCase& c, std::ostream* os) { *os << c.label; }

class LimitPrecedenceTest : public ::testing::TestWithParam<PrecedenceCase> {};

TEST_P(LimitPrecedenceTest, ForTestPicksTheMostSpecificSource) {
  const PrecedenceCase& c = GetParam();
  // ExtractOptions has already let the flag beat the environment, so Options
  // holds one of them at most (see FlagBeatsEnvironmentViaExtractOptions).
  ASSERT_FALSE(c.flag && c.env) << "bad case";
  Options options;
  if (c.flag) SetFlagTimeout(&options, *c.flag);
  if (c.env) SetEnvTimeout(&options, *c.env);
  ConfigFile config;
  if (!c.toml.empty()) config = MustParse(c.toml);

  LimitPlan::Inputs in;
  in.options = &options;
  in.file = c.toml.empty() ? nullptr : &config;
  in.annotations = c.annotations;
  LimitPlan plan;
  MustBuild(&plan, in);

  const Limit got = plan.ForTest(c.test_name);
  EXPECT_EQ(got.ns, Ns(c.want)) << "for " << c.test_name;
  EXPECT_THAT(got.origin, HasSubstr(c.want_origin)) << "for " << c.test_name;
}

constexpr char kTwoOverrides[] = R"(timeout = "7s"
[[override]]
filter = "Suite.*"
timeout = "11s"
[[override]]
filter = "Suite.Name"
timeout = "12s"
)";

constexpr char kNegativeOverride[] = R"(timeout = "7s"
[[override]]
filter = "Suite.*-Suite.Fast"
timeout = "11s"
)";

const PrecedenceCase kPrecedenceCases[] = {
    PrecedenceCase("BuiltIn").Expect("Suite.Name", absl::Seconds(60),
                                     "built-in default"),
    PrecedenceCase("FileTimeoutBeatsBuiltIn")
        .Toml("# comment\ntimeout = \"7s\"\n")
        .Expect("Suite.Name", absl::Seconds(7), "timeout in cfg.toml:2"),
    PrecedenceCase("EnvBeatsFile")
        .Toml("timeout = \"7s\"\n")
        .Env(absl::Seconds(5))
        .Expect("Suite.Name", absl::Seconds(5), kEnvOrigin),
    PrecedenceCase("EnvWithoutFile")
        .Env(absl::Seconds(5))
        .Expect("Suite.Name", absl::Seconds(5), kEnvOrigin),
    PrecedenceCase("FlagBeatsFile")
        .Toml("timeout = \"7s\"\n")
        .Flag(absl::Seconds(3))
        .Expect("Suite.Name", absl::Seconds(3), kFlagOrigin),
    PrecedenceCase("ZeroFlagBeatsFile")
        .Toml("timeout = \"7s\"\n")
        .Flag(absl::ZeroDuration())
        .Expect("Suite.Name", absl::ZeroDuration(), kFlagOrigin),
    PrecedenceCase("WildcardAnnotationBeatsFlag")
        .Flag(absl::Seconds(3))
        .Annotate("Suite.*", absl::Seconds(9), "dir/a_test.cc", 10)
        .Expect("Suite.Name", absl::Seconds(9),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.*\") at a_test.cc:10"),
    PrecedenceCase("AnnotationBeatsEnvAndFile")
        .Toml("timeout = \"7s\"\n")
        .Env(absl::Seconds(5))
        .Annotate("Suite.Name", absl::Seconds(9), "a_test.cc", 10)
        .Expect("Suite.Name", absl::Seconds(9),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.Name\") at a_test.cc:10"),
    PrecedenceCase("ZeroAnnotationBeatsFlag")
        .Flag(absl::Seconds(3))
        .Annotate("Suite.Name", absl::ZeroDuration(), "a_test.cc", 10)
        .Expect("Suite.Name", absl::ZeroDuration(),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.Name\") at a_test.cc:10"),
    PrecedenceCase("NonMatchingAnnotationIgnored")
        .Flag(absl::Seconds(3))
        .Annotate("Other.*", absl::Seconds(9), "a_test.cc", 10)
        .Expect("Suite.Name", absl::Seconds(3), kFlagOrigin),
    PrecedenceCase("ExactAnnotationBeatsEarlierWildcard")
        .Flag(absl::Seconds(3))
        .Annotate("Suite.*", absl::Seconds(9), "a_test.cc", 1)
        .Annotate("*", absl::Seconds(8), "a_test.cc", 2)
        .Annotate("Suite.Name", absl::Seconds(4), "z_test.cc", 99)
        .Expect("Suite.Name", absl::Seconds(4),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.Name\") at z_test.cc:99"),
    PrecedenceCase("WildcardsFirstByFileThenLine")
        .Annotate("*", absl::Seconds(1), "b_test.cc", 1)
        .Annotate("Suite.*", absl::Seconds(2), "a_test.cc", 20)
        .Annotate("Suite.N*", absl::Seconds(3), "a_test.cc", 5)
        .Expect("Suite.Name", absl::Seconds(3),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.N*\") at a_test.cc:5"),
    PrecedenceCase("WildcardAnnotationOnlyForMatchingNames")
        .Annotate("Suite.Name", absl::Seconds(4), "a_test.cc", 1)
        .Annotate("Suite.*", absl::Seconds(9), "a_test.cc", 2)
        .Expect("Suite.Other", absl::Seconds(9),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.*\") at a_test.cc:2"),
    PrecedenceCase("OverrideBeatsExactAnnotationAndFlag")
        .Toml("[[override]]\nfilter = \"Suite.*\"\ntimeout = \"11s\"\n")
        .Flag(absl::Seconds(3))
        .Annotate("Suite.Name", absl::Seconds(4), "a_test.cc", 1)
        .Expect("Suite.Name", absl::Seconds(11),
                "[[override]] \"Suite.*\" at cfg.toml:1"),
    PrecedenceCase("FirstOverrideInFileOrderEvenIfLaterIsExact")
        .Toml(kTwoOverrides)
        .Expect("Suite.Name", absl::Seconds(11),
                "[[override]] \"Suite.*\" at cfg.toml:2"),
    PrecedenceCase("ZeroOverrideBeatsFlagAndAnnotation")
        .Toml("[[override]]\nfilter = \"Suite.Name\"\ntimeout = \"0\"\n")
        .Flag(absl::Seconds(3))
        .Annotate("Suite.Name", absl::Seconds(4), "a_test.cc", 1)
        .Expect("Suite.Name", absl::ZeroDuration(),
                "[[override]] \"Suite.Name\" at cfg.toml:1"),
    PrecedenceCase("NonMatchingOverrideFallsToAnnotation")
        .Toml("[[override]]\nfilter = \"Other.*\"\ntimeout = \"11s\"\n")
        .Annotate("Suite.*", absl::Seconds(9), "a_test.cc", 1)
        .Expect("Suite.Name", absl::Seconds(9),
                "GTEST_WATCHDOG_TIMEOUT(\"Suite.*\") at a_test.cc:1"),
    PrecedenceCase("NonMatchingOverrideFallsToFileTimeout")
        .Toml(kNegativeOverride)
        .Expect("Other.Name", absl::Seconds(7), "timeout in cfg.toml:1"),
    PrecedenceCase("ParameterizedNameMatchedByOverride")
        .Toml("[[override]]\nfilter = \"Inst/*\"\ntimeout = \"11s\"\n")
        .Flag(absl::Seconds(3))
        .Expect("Inst/Suite.Name/3", absl::Seconds(11),
                "[[override]] \"Inst/*\" at cfg.toml:1"),
    PrecedenceCase("ParameterizedNameMatchedByAnnotation")
        .Flag(absl::Seconds(3))
        .Annotate("Inst/*", absl::Seconds(9), "a_test.cc", 1)
        .Expect("Inst/Suite.Name/3", absl::Seconds(9),
                "GTEST_WATCHDOG_TIMEOUT(\"Inst/*\") at a_test.cc:1"),
    PrecedenceCase("ParameterizedPatternMissesOtherInstantiation")
        .Flag(absl::Seconds(3))
        .Annotate("Inst/*", absl::Seconds(9), "a_test.cc", 1)
        .Expect("Other/Suite.Name/3", absl::Seconds(3), kFlagOrigin),
    PrecedenceCase("NegativeOverridePatternMatches")
        .Toml(kNegativeOverride)
        .Flag(absl::Seconds(3))
        .Expect("Suite.Slow", absl::Seconds(11),
                "[[override]] \"Suite.*-Suite.Fast\" at cfg.toml:2"),
    PrecedenceCase("NegativeOverridePatternExcludes")
        .Toml(kNegativeOverride)
        .Flag(absl::Seconds(3))
        .Expect("Suite.Fast", absl::Seconds(3), kFlagOrigin),
    PrecedenceCase("NegativeAnnotationPatternMatches")
        .Env(absl::Seconds(5))
        .Annotate("Suite.*-Suite.Fast", absl::Seconds(9), "a_test.cc", 1)
        .Expect(
            "Suite.Slow", absl::Seconds(9),
            "GTEST_WATCHDOG_TIMEOUT(\"Suite.*-Suite.Fast\") at a_test.cc:1"),
    PrecedenceCase("NegativeAnnotationPatternExcludes")
        .Env(absl::Seconds(5))
        .Annotate("Suite.*-Suite.Fast", absl::Seconds(9), "a_test.cc", 1)
        .Expect("Suite.Fast", absl::Seconds(5), kEnvOrigin),
};

INSTANTIATE_TEST_SUITE_P(
    Table, LimitPrecedenceTest, ::testing::ValuesIn(kPrecedenceCases),
    [](const ::testing::TestParamInfo<PrecedenceCase>& param_info) {
      return param_info.param.label;
    });

TEST(LimitPlanTest, FlagBeatsEnvironmentViaExtractOptions) {
  char arg0[] = "prog";
  char arg1[] = "--gtest_watchdog_timeout=3s";
  char* argv[] = {arg0, arg1, nullptr};
  int argc = 2;
  Options options;
  std::string error;
  ASSERT_TRUE(ExtractOptions(
      &argc, argv,
      [](const char* name) -> const char* {
        return std::strcmp(name, "GTEST_WATCHDOG_TIMEOUT") == 0 ? "5s"
                                                                : nullptr;
      },
      &options, &error))
      << error;
  const ConfigFile config = MustParse("timeout = \"7s\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ForTest("Suite.Name").ns, 3 * kSecond);
  EXPECT_THAT(plan.ForTest("Suite.Name").origin, StrEq(kFlagOrigin));
}

TEST(LimitPlanTest, ForTestReturnsTestDefaultWhenNothingMatches) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, 3 * kSecond);
  EXPECT_THAT(plan.test_default().origin, StrEq(kFlagOrigin));
  EXPECT_EQ(plan.ForTest("Any.Test").ns, plan.test_default().ns);
  EXPECT_EQ(plan.total().ns, 0);
  EXPECT_EQ(plan.slow().ns, 0);
  EXPECT_EQ(plan.scale(), 1);
  EXPECT_THAT(plan.notice(), IsEmpty());
}

// ---------------------------------------------------------------------------
// Scale.

constexpr char kScaleToml[] = R"(scale = 3.0
[[override]]
filter = "Over.*"
timeout = "7s"
)";

TEST(LimitScaleTest, FlagScaleMultipliesEveryLimit) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  options.suite_timeout =
      MakeGiven(absl::Seconds(4), "--gtest_watchdog_suite_timeout");
  options.environment_timeout =
      MakeGiven(absl::Seconds(5), "--gtest_watchdog_environment_timeout");
  options.total_timeout =
      MakeGiven(absl::Seconds(6), "--gtest_watchdog_total_timeout");
  options.slow = MakeGiven(absl::Seconds(1), "--gtest_watchdog_slow");
  options.scale = MakeGiven(2.0, "--gtest_watchdog_scale");
  const ConfigFile config = MustParse(kScaleToml);  // its scale 3 loses
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.annotations = {Ann("Ann.*", absl::Seconds(8), "a_test.cc", 1)};
  in.runtime = {"ThreadSanitizer", 5};  // loses too
  LimitPlan plan;
  MustBuild(&plan, in);

  EXPECT_EQ(plan.scale(), 2);
  EXPECT_EQ(plan.scale_origin(), "--gtest_watchdog_scale");
  EXPECT_THAT(plan.notice(), IsEmpty());
  const auto scaled = HasSubstr("scaled ×2 (--gtest_watchdog_scale)");

  EXPECT_EQ(plan.test_default().ns, 6 * kSecond);
  EXPECT_THAT(plan.test_default().origin,
              AllOf(HasSubstr(kFlagOrigin), scaled));
  EXPECT_EQ(plan.ForTest("Plain.Test").ns, 6 * kSecond);
  EXPECT_EQ(plan.suite().ns, 8 * kSecond);
  EXPECT_THAT(plan.suite().origin,
              AllOf(HasSubstr("--gtest_watchdog_suite_timeout"), scaled));
  EXPECT_EQ(plan.environment().ns, 10 * kSecond);
  EXPECT_THAT(plan.environment().origin,
              AllOf(HasSubstr("--gtest_watchdog_environment_timeout"), scaled));
  EXPECT_EQ(plan.total().ns, 12 * kSecond);
  EXPECT_THAT(plan.total().origin,
              AllOf(HasSubstr("--gtest_watchdog_total_timeout"), scaled));
  EXPECT_EQ(plan.slow().ns, 2 * kSecond);
  EXPECT_THAT(plan.slow().origin,
              AllOf(HasSubstr("--gtest_watchdog_slow"), scaled));
  const Limit over = plan.ForTest("Over.Test");
  EXPECT_EQ(over.ns, 14 * kSecond);
  EXPECT_THAT(over.origin, AllOf(HasSubstr("[[override]] \"Over.*\""), scaled));
  const Limit ann = plan.ForTest("Ann.Test");
  EXPECT_EQ(ann.ns, 16 * kSecond);
  EXPECT_THAT(ann.origin,
              AllOf(HasSubstr("GTEST_WATCHDOG_TIMEOUT(\"Ann.*\")"), scaled));
}

TEST(LimitScaleTest, EnvironmentScaleNamesTheVariable) {
  Options options;
  options.scale = MakeGiven(1.5, "GTEST_WATCHDOG_SCALE");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, 90 * kSecond);
  EXPECT_THAT(plan.test_default().origin,
              AllOf(HasSubstr("built-in default"),
                    HasSubstr("scaled ×1.5 (GTEST_WATCHDOG_SCALE)")));
}

TEST(LimitScaleTest, FileScaleUsedWithoutFlagAndBeatsRuntime) {
  Options options;
  const ConfigFile config = MustParse(
      "timeout = \"2s\"\nslow = \"1s\"\ntotal_timeout = \"10s\"\n"
      "suite_timeout = \"4s\"\n" +
      std::string(kScaleToml));
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.runtime = {"ThreadSanitizer", 5};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.scale(), 3);
  EXPECT_THAT(plan.scale_origin(), HasSubstr("scale in cfg.toml"));
  EXPECT_THAT(plan.notice(), IsEmpty());
  EXPECT_EQ(plan.test_default().ns, 6 * kSecond);
  EXPECT_THAT(plan.test_default().origin,
              AllOf(HasSubstr("timeout in cfg.toml:1"),
                    HasSubstr("scaled ×3 (scale in cfg.toml)")));
  EXPECT_EQ(plan.slow().ns, 3 * kSecond);
  EXPECT_EQ(plan.total().ns, 30 * kSecond);
  EXPECT_EQ(plan.suite().ns, 12 * kSecond);
  EXPECT_EQ(plan.environment().ns, 6 * kSecond);
  EXPECT_EQ(plan.ForTest("Over.X").ns, 21 * kSecond);
}

TEST(LimitScaleTest, RuntimeSlowdownOnlyWithoutAnyGivenScale) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  const ConfigFile config = MustParse("slow = \"1s\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.runtime = {"ThreadSanitizer", 5};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.scale(), 5);
  EXPECT_THAT(plan.scale_origin(), HasSubstr("ThreadSanitizer"));
  EXPECT_THAT(plan.notice(), HasSubstr("ThreadSanitizer"));
  EXPECT_THAT(plan.notice(), HasSubstr("5"));
  EXPECT_EQ(plan.test_default().ns, 15 * kSecond);
  EXPECT_THAT(plan.test_default().origin,
              AllOf(HasSubstr(kFlagOrigin), HasSubstr("scaled ×5"),
                    HasSubstr("ThreadSanitizer")));
  EXPECT_EQ(plan.slow().ns, 5 * kSecond);
}

TEST(LimitScaleTest, NoRuntimeNoScaleMeansOne) {
  Options options;
  LimitPlan::Inputs in;
  in.options = &options;
  in.runtime = {};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.scale(), 1);
  EXPECT_THAT(plan.notice(), IsEmpty());
  EXPECT_EQ(plan.test_default().ns, 60 * kSecond);
  EXPECT_THAT(plan.test_default().origin, StrEq("built-in default"));
}

TEST(LimitScaleTest, ScaleOneLeavesOriginUntouched) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  options.scale = MakeGiven(1.0, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  in.annotations = {Ann("Ann.*", absl::Seconds(8), "dir/a_test.cc", 4)};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, 3 * kSecond);
  EXPECT_THAT(plan.test_default().origin, StrEq(kFlagOrigin));
  EXPECT_THAT(plan.ForTest("Ann.X").origin,
              StrEq("GTEST_WATCHDOG_TIMEOUT(\"Ann.*\") at a_test.cc:4"));
}

TEST(LimitScaleTest, ZeroLimitsStayZeroWhenScaled) {
  Options options;
  SetFlagTimeout(&options, absl::ZeroDuration());
  options.total_timeout =
      MakeGiven(absl::ZeroDuration(), "--gtest_watchdog_total_timeout");
  options.slow = MakeGiven(absl::ZeroDuration(), "--gtest_watchdog_slow");
  options.suite_timeout =
      MakeGiven(absl::ZeroDuration(), "--gtest_watchdog_suite_timeout");
  options.scale = MakeGiven(4.0, "--gtest_watchdog_scale");
  const ConfigFile config =
      MustParse("[[override]]\nfilter = \"Over.*\"\ntimeout = 0\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.annotations = {Ann("Ann.*", absl::ZeroDuration(), "a_test.cc", 1)};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, 0);
  EXPECT_EQ(plan.suite().ns, 0);
  EXPECT_EQ(plan.environment().ns, 0);
  EXPECT_EQ(plan.total().ns, 0);
  EXPECT_EQ(plan.slow().ns, 0);
  EXPECT_EQ(plan.ForTest("Over.X").ns, 0);
  EXPECT_EQ(plan.ForTest("Ann.X").ns, 0);
}

TEST(LimitScaleTest, HugeScaleIsClampedToHundredYears) {
  Options options;
  options.scale = MakeGiven(1e300, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, kHundredYearsNs);
}

TEST(LimitScaleTest, FractionalScaleRounds) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  options.scale = MakeGiven(0.5, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.test_default().ns, 1500000000);
  EXPECT_THAT(plan.test_default().origin, HasSubstr("scaled ×0.5"));
}

// BUG: a tiny (valid, > 0) scale rounds a positive limit down to 0 ns, and
// 0 means "no limit": shrinking a limit must never switch it off.
TEST(LimitScaleTest, TinyScaleNeverSwitchesALimitOff) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(1));
  options.scale = MakeGiven(1e-12, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_GT(plan.test_default().ns, 0);
}

// ---------------------------------------------------------------------------
// Suite and environment limits.

TEST(LimitPhaseTest, OwnFlagsWin) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  options.suite_timeout =
      MakeGiven(absl::Seconds(4), "--gtest_watchdog_suite_timeout");
  options.environment_timeout =
      MakeGiven(absl::Seconds(5), "GTEST_WATCHDOG_ENVIRONMENT_TIMEOUT");
  const ConfigFile config =
      MustParse("suite_timeout = \"40s\"\nenvironment_timeout = \"50s\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.suite().ns, 4 * kSecond);
  EXPECT_THAT(plan.suite().origin, StrEq("--gtest_watchdog_suite_timeout"));
  EXPECT_EQ(plan.environment().ns, 5 * kSecond);
  EXPECT_THAT(plan.environment().origin,
              StrEq("GTEST_WATCHDOG_ENVIRONMENT_TIMEOUT"));
}

TEST(LimitPhaseTest, FileKeysBeatTheTestDefault) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  const ConfigFile config = MustParse(
      "timeout = \"7s\"\nsuite_timeout = \"40s\"\n"
      "environment_timeout = \"0\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.suite().ns, 40 * kSecond);
  EXPECT_THAT(plan.suite().origin, HasSubstr("suite_timeout in cfg.toml"));
  EXPECT_EQ(plan.environment().ns, 0);
  EXPECT_THAT(plan.environment().origin,
              HasSubstr("environment_timeout in cfg.toml"));
}

TEST(LimitPhaseTest, DefaultToTestLimitNotOverridesOrAnnotations) {
  Options options;
  SetEnvTimeout(&options, absl::Seconds(3));
  const ConfigFile config = MustParse(
      "timeout = \"7s\"\n[[override]]\nfilter = \"*\"\ntimeout = \"11s\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.annotations = {Ann("*", absl::Seconds(9), "a_test.cc", 1)};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.suite().ns, 3 * kSecond);
  EXPECT_THAT(plan.suite().origin, StrEq(kEnvOrigin));
  EXPECT_EQ(plan.environment().ns, 3 * kSecond);
  EXPECT_THAT(plan.environment().origin, StrEq(kEnvOrigin));
}

TEST(LimitPhaseTest, DefaultToBuiltInWithoutAnything) {
  Options options;
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.suite().ns, 60 * kSecond);
  EXPECT_EQ(plan.environment().ns, 60 * kSecond);
  EXPECT_THAT(plan.suite().origin, StrEq("built-in default"));
}

// ---------------------------------------------------------------------------
// The run bound: what an outer runner's timeout must exceed.

LimitPlan BuildFromConfig(const std::string& toml, const Options& options,
                          std::vector<Annotation> annotations = {}) {
  static std::deque<ConfigFile> files;  // the plan keeps pointers into it
  files.push_back(MustParse(toml));
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &files.back();
  in.annotations = std::move(annotations);
  LimitPlan plan;
  MustBuild(&plan, in);
  return plan;
}

TEST(LimitRunBoundTest, SumsEveryPhaseARunOfOneTestGoesThrough) {
  Options options;
  const LimitPlan plan = BuildFromConfig(
      "timeout = \"10s\"\nsuite_timeout = \"3s\"\n"
      "environment_timeout = \"2s\"\n"
      "[[override]]\nfilter = \"Db.*\"\ntimeout = \"100s\"\n",
      options, {Ann("Net.*", absl::Seconds(40), "n_test.cc", 3)});
  // environment set-up + SetUpTestSuite + test + TearDownTestSuite +
  // environment tear-down.
  EXPECT_EQ(plan.RunBoundForTest("Other.Test"), (2 + 3 + 10 + 3 + 2) * kSecond);
  EXPECT_EQ(plan.RunBoundForTest("Db.Migrate"),
            (2 + 3 + 100 + 3 + 2) * kSecond);
  EXPECT_EQ(plan.RunBoundForTest("Net.Get"), (2 + 3 + 40 + 3 + 2) * kSecond);
}

TEST(LimitRunBoundTest, ScaleIsIncluded) {
  Options options;
  const LimitPlan plan = BuildFromConfig(
      "timeout = \"10s\"\nsuite_timeout = \"1s\"\n"
      "environment_timeout = \"1s\"\nscale = 3.0\n",
      options);
  EXPECT_EQ(plan.RunBoundForTest("A.B"), 3 * (1 + 1 + 10 + 1 + 1) * kSecond);
}

TEST(LimitRunBoundTest, WholeRunLimitCapsIt) {
  Options options;
  const LimitPlan plan = BuildFromConfig(
      "timeout = \"10s\"\ntotal_timeout = \"15s\"\n"
      "[[override]]\nfilter = \"Quick.*\"\ntimeout = \"1s\"\n",
      options);
  EXPECT_EQ(plan.RunBoundForTest("Slow.Test"), 15 * kSecond);  // 50 s summed
  // Quick: 10 + 10 + 1 + 10 + 10 = 41 s summed, still above the total.
  EXPECT_EQ(plan.RunBoundForTest("Quick.Test"), 15 * kSecond);
  const LimitPlan small =
      BuildFromConfig("timeout = \"1s\"\ntotal_timeout = \"1h\"\n", options);
  EXPECT_EQ(small.RunBoundForTest("A.B"), 5 * kSecond);  // sum below total
}

TEST(LimitRunBoundTest, AnUnlimitedPhaseLeavesOnlyTheWholeRunLimit) {
  Options options;
  const LimitPlan off = BuildFromConfig(
      "timeout = \"10s\"\n[[override]]\nfilter = \"Fuzz.*\"\n"
      "timeout = \"0s\"\n",
      options);
  EXPECT_EQ(off.RunBoundForTest("Fuzz.Forever"), 0);  // nothing bounds it
  EXPECT_EQ(off.RunBoundForTest("Other.Test"), 50 * kSecond);
  const LimitPlan suite_off = BuildFromConfig(
      "timeout = \"10s\"\nsuite_timeout = \"0\"\n"
      "total_timeout = \"20m\"\n",
      options);
  EXPECT_EQ(suite_off.RunBoundForTest("A.B"), 20 * 60 * kSecond);
}

TEST(LimitRunBoundTest, RepeatMultipliesItUpToTheWholeRunLimit) {
  Options options;
  const LimitPlan plan = BuildFromConfig("timeout = \"1s\"\n", options);
  EXPECT_EQ(plan.RunBoundForTest("A.B", 3), 3 * 5 * kSecond);
  // --gtest_repeat=0 runs nothing: one run's bound is still a bound.
  EXPECT_EQ(plan.RunBoundForTest("A.B", 0), 5 * kSecond);
  EXPECT_EQ(plan.RunBoundForTest("A.B", -1), 0);  // for ever
  const LimitPlan capped =
      BuildFromConfig("timeout = \"1s\"\ntotal_timeout = \"12s\"\n", options);
  EXPECT_EQ(capped.RunBoundForTest("A.B", 3), 12 * kSecond);
  EXPECT_EQ(capped.RunBoundForTest("A.B", -1), 12 * kSecond);
}

TEST(LimitRunBoundTest, HugeLimitsDoNotWrapAround) {
  Options options;
  // Five phases of 100 years are beyond int64 nanoseconds: no bound at all,
  // never a wrapped-around short one.
  const LimitPlan plan = BuildFromConfig("timeout = \"876000h\"\n", options);
  EXPECT_EQ(plan.RunBoundForTest("A.B"), 0);
  const LimitPlan capped = BuildFromConfig(
      "timeout = \"876000h\"\ntotal_timeout = \"2h\"\n", options);
  EXPECT_EQ(capped.RunBoundForTest("A.B"), 2 * 3600 * kSecond);
}

// ---------------------------------------------------------------------------
// Whole-run limit and the Bazel cap.

struct TotalCase {
  const char* label;
  std::optional<int64_t> flag_s;  // --gtest_watchdog_total_timeout
  std::optional<int64_t> file_s;  // total_timeout in the file
  const char* bazel;              // TEST_TIMEOUT or null
  double scale;                   // 1: none given
  int64_t want_ns;
  const char* want_origin;
};

void PrintTo(const TotalCase& c, std::ostream* os) { *os << c.label; }

class LimitTotalTest : public ::testing::TestWithParam<TotalCase> {};

TEST_P(LimitTotalTest, Resolves) {
  const TotalCase& c = GetParam();
  Options options;
  if (c.flag_s) {
    options.total_timeout =
        MakeGiven(absl::Seconds(*c.flag_s), "--gtest_watchdog_total_timeout");
  }
  if (c.scale != 1)
    options.scale = MakeGiven(c.scale, "--gtest_watchdog_scale");
  ConfigFile config;
  if (c.file_s) {
    config = MustParse("total_timeout = " + std::to_string(*c.file_s) + "\n");
  }
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = c.file_s ? &config : nullptr;
  in.bazel_test_timeout = c.bazel;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.total().ns, c.want_ns);
  EXPECT_THAT(plan.total().origin, HasSubstr(c.want_origin));
}

TEST(LimitOuterTimeoutTest, CapsTheWholeRunBelowTheOuterKillUnscaled) {
  Options options;
  options.outer_timeout =
      MakeGiven(absl::Seconds(360), "--gtest_watchdog_outer_timeout");
  options.scale = MakeGiven(3.0, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.total().ns, 330 * kSecond);  // 30 s margin at most
  EXPECT_THAT(plan.total().origin,
              AllOf(HasSubstr("--gtest_watchdog_outer_timeout=6m"),
                    HasSubstr("safety margin")));
  // The run bound of every test is then below the outer kill, however long
  // its phases (180 s x 3 x 5 phases here).
  EXPECT_EQ(plan.RunBoundForTest("A.B"), 330 * kSecond);
}

TEST(LimitOuterTimeoutTest, ShorterTotalAndBazelCapWinZeroIsNone) {
  Options options;
  options.total_timeout =
      MakeGiven(absl::Seconds(100), "--gtest_watchdog_total_timeout");
  options.outer_timeout =
      MakeGiven(absl::Seconds(360), "--gtest_watchdog_outer_timeout");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.total().ns, 100 * kSecond);

  in.bazel_test_timeout = "60";  // 54 s: below the outer cap
  LimitPlan bazel;
  MustBuild(&bazel, in);
  EXPECT_EQ(bazel.total().ns, 54 * kSecond);

  Options zero;
  zero.outer_timeout =
      MakeGiven(absl::ZeroDuration(), "--gtest_watchdog_outer_timeout");
  LimitPlan::Inputs none;
  none.options = &zero;
  LimitPlan off;
  MustBuild(&off, none);
  EXPECT_EQ(off.total().ns, 0);
}

TEST(LimitOuterTimeoutTest, ShortOuterTimeoutsKeepHalf) {
  EXPECT_EQ(CapBelow(10 * kSecond), 8 * kSecond);  // at least 2 s below
  EXPECT_EQ(CapBelow(3 * kSecond), 1500000000);    // never below half
}

constexpr char kBazelOrigin[] = "TEST_TIMEOUT=300";

INSTANTIATE_TEST_SUITE_P(
    Table, LimitTotalTest,
    ::testing::Values(
        TotalCase{"None", {}, {}, nullptr, 1, 0, ""},
        TotalCase{"Flag",
                  100,
                  {},
                  nullptr,
                  1,
                  100 * kSecond,
                  "--gtest_watchdog_total_timeout"},
        TotalCase{"File",
                  {},
                  100,
                  nullptr,
                  1,
                  100 * kSecond,
                  "total_timeout in cfg.toml"},
        TotalCase{"FlagBeatsFile", 100, 200, nullptr, 1, 100 * kSecond,
                  "--gtest_watchdog_total_timeout"},
        TotalCase{"BazelAlone", {}, {}, "300", 1, 270 * kSecond, kBazelOrigin},
        TotalCase{"BazelLowersLargerFlag",
                  600,
                  {},
                  "300",
                  1,
                  270 * kSecond,
                  kBazelOrigin},
        TotalCase{"BazelLowersLargerFile",
                  {},
                  600,
                  "300",
                  1,
                  270 * kSecond,
                  kBazelOrigin},
        TotalCase{"BazelNeverRaisesSmallerFlag",
                  100,
                  {},
                  "300",
                  1,
                  100 * kSecond,
                  "--gtest_watchdog_total_timeout"},
        TotalCase{"BazelNeverRaisesSmallerFile",
                  {},
                  100,
                  "300",
                  1,
                  100 * kSecond,
                  "total_timeout in cfg.toml"},
        TotalCase{
            "BazelCapsZeroTotal", 0, {}, "300", 1, 270 * kSecond, kBazelOrigin},
        TotalCase{"BazelCapIsNotScaled",
                  {},
                  {},
                  "300",
                  4,
                  270 * kSecond,
                  kBazelOrigin},
        TotalCase{"BazelLowersScaledTotal",
                  200,
                  {},
                  "300",
                  2,
                  270 * kSecond,
                  kBazelOrigin},
        TotalCase{"ScaledTotalBelowBazelStays",
                  100,
                  {},
                  "300",
                  2,
                  200 * kSecond,
                  "scaled ×2"}),
    [](const ::testing::TestParamInfo<TotalCase>& param_info) {
      return std::string(param_info.param.label);
    });

TEST(LimitTotalErrorTest, BadBazelTimeoutFailsBuild) {
  Options options;
  LimitPlan::Inputs in;
  in.options = &options;
  in.bazel_test_timeout = "abc";
  EXPECT_THAT(BuildError(in),
              AllOf(HasSubstr("TEST_TIMEOUT"), HasSubstr("abc")));
}

struct BazelCase {
  const char* text;
  int64_t want_ns;
};

void PrintTo(const BazelCase& c, std::ostream* os) { *os << c.text; }

class BazelCapTest : public ::testing::TestWithParam<BazelCase> {};

TEST_P(BazelCapTest, Margin) {
  int64_t cap = -1;
  std::string error;
  ASSERT_TRUE(BazelCap(GetParam().text, &cap, &error)) << error;
  EXPECT_EQ(cap, GetParam().want_ns);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BazelCapTest,
    ::testing::Values(BazelCase{"300", 270 * kSecond},     // 10 %
                      BazelCase{"3", 1500000000},          // half
                      BazelCase{"1", 500000000},           // half
                      BazelCase{"4", 2 * kSecond},         // half == -2 s
                      BazelCase{"5", 3 * kSecond},         // minus 2 s
                      BazelCase{"20", 18 * kSecond},       // minus 2 s
                      BazelCase{"30", 27 * kSecond},       // minus 3 s
                      BazelCase{"1000", 970 * kSecond},    // minus 30 s
                      BazelCase{"86400", 86370 * kSecond}  // minus 30 s
                      ));

class BazelCapErrorTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BazelCapErrorTest, Rejects) {
  int64_t cap = -1;
  std::string error;
  EXPECT_FALSE(BazelCap(GetParam(), &cap, &error));
  EXPECT_THAT(error, HasSubstr("TEST_TIMEOUT"));
  EXPECT_THAT(error, HasSubstr(std::string("'") + GetParam() + "'"));
}

INSTANTIATE_TEST_SUITE_P(Table, BazelCapErrorTest,
                         ::testing::Values("", "abc", "-5", "0", "1.5", "10s",
                                           "99999999999999999999"));

TEST(BazelCapNullTest, RejectsNull) {
  int64_t cap = -1;
  std::string error;
  EXPECT_FALSE(BazelCap(nullptr, &cap, &error));
  EXPECT_THAT(error, HasSubstr("TEST_TIMEOUT"));
}

// ---------------------------------------------------------------------------
// Annotation errors.

LimitPlan::Inputs WithAnnotation(const Options* options, Annotation a) {
  LimitPlan::Inputs in;
  in.options = options;
  in.annotations = {Ann("Good.*", absl::Seconds(1), "a_test.cc", 1),
                    std::move(a)};
  return in;
}

TEST(LimitAnnotationErrorTest, BadPatternNamesFileLineAndPattern) {
  Options options;
  const std::string error = BuildError(
      WithAnnotation(&options, {"Suite::Name", 1e9L, "dir/bad_test.cc", 42}));
  EXPECT_THAT(error, HasSubstr("dir/bad_test.cc:42"));
  EXPECT_THAT(error, HasSubstr("'Suite::Name'"));
  EXPECT_THAT(error, HasSubstr("bad pattern"));
}

TEST(LimitAnnotationErrorTest, EmptyPattern) {
  Options options;
  const std::string error =
      BuildError(WithAnnotation(&options, {"", 1e9L, "bad_test.cc", 7}));
  EXPECT_THAT(error, HasSubstr("bad_test.cc:7"));
  EXPECT_THAT(error, HasSubstr("empty"));
}

TEST(LimitAnnotationErrorTest, NegativeLimit) {
  Options options;
  const std::string error = BuildError(
      WithAnnotation(&options, {"Suite.*", -1e9L, "dir/bad_test.cc", 42}));
  EXPECT_THAT(error, HasSubstr("dir/bad_test.cc:42"));
  EXPECT_THAT(error, HasSubstr("Suite.*"));
  EXPECT_THAT(error, HasSubstr("negative"));
}

TEST(LimitAnnotationErrorTest, HugeLimit) {
  Options options;
  const std::string error = BuildError(
      WithAnnotation(&options, {"Suite.*", 1e30L, "dir/bad_test.cc", 42}));
  EXPECT_THAT(error, HasSubstr("dir/bad_test.cc:42"));
  EXPECT_THAT(error, HasSubstr("too large"));
}

TEST(LimitAnnotationErrorTest, HundredYearsIsAccepted) {
  Options options;
  LimitPlan plan;
  MustBuild(&plan,
            WithAnnotation(
                &options, {"Suite.*", static_cast<long double>(kHundredYearsNs),
                           "a_test.cc", 2}));
  EXPECT_EQ(plan.ForTest("Suite.X").ns, kHundredYearsNs);
}

TEST(LimitAnnotationErrorTest, NanLimitIsRejected) {
  Options options;
  const std::string error = BuildError(WithAnnotation(
      &options, {"Suite.*", std::numeric_limits<long double>::quiet_NaN(),
                 "a_test.cc", 3}));
  EXPECT_THAT(error, HasSubstr("a_test.cc:3"));
}

// BUG: a NaN duration (std::chrono::duration<double>(NAN)) is rejected, but
// the message says "it is too large (at most 100 years)".
TEST(LimitAnnotationErrorTest, NanLimitIsNotCalledTooLarge) {
  Options options;
  const std::string error = BuildError(WithAnnotation(
      &options, {"Suite.*", std::numeric_limits<long double>::quiet_NaN(),
                 "a_test.cc", 3}));
  EXPECT_THAT(error, Not(HasSubstr("too large")));
}

// ---------------------------------------------------------------------------
// ShortestEvent.

TEST(LimitShortestEventTest, HourWhenEverythingIsOff) {
  Options options;
  SetFlagTimeout(&options, absl::ZeroDuration());
  LimitPlan::Inputs in;
  in.options = &options;
  in.annotations = {Ann("*", absl::ZeroDuration(), "a_test.cc", 1)};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 3600 * kSecond);
}

TEST(LimitShortestEventTest, DefaultTestLimit) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 3 * kSecond);
}

TEST(LimitShortestEventTest, IncludesSlowMark) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(10));
  options.slow = MakeGiven(absl::Seconds(2), "--gtest_watchdog_slow");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 2 * kSecond);
}

TEST(LimitShortestEventTest, IncludesSuiteAndEnvironment) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(10));
  options.suite_timeout =
      MakeGiven(absl::Seconds(4), "--gtest_watchdog_suite_timeout");
  options.environment_timeout =
      MakeGiven(absl::Seconds(6), "--gtest_watchdog_environment_timeout");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 4 * kSecond);

  Options env_shorter = options;
  env_shorter.environment_timeout =
      MakeGiven(absl::Seconds(1), "--gtest_watchdog_environment_timeout");
  in.options = &env_shorter;
  LimitPlan plan2;
  MustBuild(&plan2, in);
  EXPECT_EQ(plan2.ShortestEvent(), 1 * kSecond);
}

TEST(LimitShortestEventTest, IncludesOverridesAndAnnotationsSkippingZeros) {
  Options options;
  SetFlagTimeout(&options, absl::ZeroDuration());
  const ConfigFile config = MustParse(
      "[[override]]\nfilter = \"A.*\"\ntimeout = 0\n"
      "[[override]]\nfilter = \"B.*\"\ntimeout = \"700ms\"\n");
  LimitPlan::Inputs in;
  in.options = &options;
  in.file = &config;
  in.annotations = {Ann("C.*", absl::ZeroDuration(), "a_test.cc", 1),
                    Ann("D.*", absl::Milliseconds(900), "a_test.cc", 2)};
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 700 * 1000000);

  in.annotations.push_back(Ann("E.*", absl::Milliseconds(300), "a_test.cc", 3));
  LimitPlan plan2;
  MustBuild(&plan2, in);
  EXPECT_EQ(plan2.ShortestEvent(), 300 * 1000000);
}

TEST(LimitShortestEventTest, UsesScaledLimits) {
  Options options;
  SetFlagTimeout(&options, absl::Seconds(3));
  options.scale = MakeGiven(2.0, "--gtest_watchdog_scale");
  LimitPlan::Inputs in;
  in.options = &options;
  LimitPlan plan;
  MustBuild(&plan, in);
  EXPECT_EQ(plan.ShortestEvent(), 6 * kSecond);
}

// ---------------------------------------------------------------------------
// DetectSlowRuntime.

bool NoSymbols(const char*) { return false; }
bool AllSymbols(const char*) { return true; }
bool TsanOnly(const char* name) {
  return std::strcmp(name, "__tsan_init") == 0;
}
bool MsanOnly(const char* name) {
  return std::strcmp(name, "__msan_init") == 0;
}
bool AsanOnly(const char* name) {
  return std::strcmp(name, "__asan_init") == 0;
}
bool MsanAndAsan(const char* name) { return MsanOnly(name) || AsanOnly(name); }
bool TsanAndAsan(const char* name) { return TsanOnly(name) || AsanOnly(name); }

constexpr char kVgPreload[] =
    "/usr/libexec/valgrind/vgpreload_core-amd64-linux.so:"
    "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so";

TEST(SlowRuntimeTest, Valgrind) {
  const RuntimeSlowdown r = DetectSlowRuntime(&NoSymbols, kVgPreload);
  ASSERT_NE(r.name, nullptr);
  EXPECT_STREQ(r.name, "valgrind");
  EXPECT_EQ(r.factor, 10);
}

TEST(SlowRuntimeTest, ValgrindBeatsSanitizerSymbols) {
  const RuntimeSlowdown r = DetectSlowRuntime(
      &AllSymbols, "/lib/valgrind/vgpreload_memcheck-amd64-linux.so");
  ASSERT_NE(r.name, nullptr);
  EXPECT_STREQ(r.name, "valgrind");
}

TEST(SlowRuntimeTest, ThreadSanitizer) {
  const RuntimeSlowdown r = DetectSlowRuntime(&TsanOnly, nullptr);
  ASSERT_NE(r.name, nullptr);
  EXPECT_STREQ(r.name, "ThreadSanitizer");
  EXPECT_EQ(r.factor, 5);
}

TEST(SlowRuntimeTest, MemorySanitizer) {
  const RuntimeSlowdown r = DetectSlowRuntime(&MsanOnly, "");
  ASSERT_NE(r.name, nullptr);
  EXPECT_STREQ(r.name, "MemorySanitizer");
  EXPECT_EQ(r.factor, 3);
}

TEST(SlowRuntimeTest, AddressSanitizer) {
  const RuntimeSlowdown r = DetectSlowRuntime(&AsanOnly, "/lib/libfoo.so");
  ASSERT_NE(r.name, nullptr);
  EXPECT_STREQ(r.name, "AddressSanitizer");
  EXPECT_EQ(r.factor, 2);
}

TEST(SlowRuntimeTest, SlowerSanitizerBeatsAddressSanitizer) {
  // ASan's symbols coexist with others (e.g. in a combined runtime); the
  // slower one decides.
  const RuntimeSlowdown with_tsan = DetectSlowRuntime(&TsanAndAsan, nullptr);
  ASSERT_NE(with_tsan.name, nullptr);
  EXPECT_STREQ(with_tsan.name, "ThreadSanitizer");
  const RuntimeSlowdown with_msan = DetectSlowRuntime(&MsanAndAsan, nullptr);
  ASSERT_NE(with_msan.name, nullptr);
  EXPECT_STREQ(with_msan.name, "MemorySanitizer");
  const RuntimeSlowdown all = DetectSlowRuntime(&AllSymbols, nullptr);
  ASSERT_NE(all.name, nullptr);
  EXPECT_STREQ(all.name, "ThreadSanitizer");
}

TEST(SlowRuntimeTest, Nothing) {
  for (const char* preload :
       {static_cast<const char*>(nullptr), "", "/usr/lib/libjemalloc.so.2"}) {
    const RuntimeSlowdown r = DetectSlowRuntime(&NoSymbols, preload);
    EXPECT_EQ(r.name, nullptr) << (preload ? preload : "(null)");
    EXPECT_EQ(r.factor, 1);
  }
}

}  // namespace
}  // namespace gtest_watchdog_internal
