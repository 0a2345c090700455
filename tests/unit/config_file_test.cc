// Tests for the TOML config file (gtest_watchdog/config/config_file.h).

#include "gtest_watchdog/config/config_file.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kPath[] = "cfg.toml";

ConfigFile MustParse(const std::string& text) {
  ConfigFile config;
  std::string error;
  EXPECT_TRUE(ParseConfigText(text, kPath, &config, &error))
      << error << "\n--- text:\n"
      << text;
  EXPECT_THAT(error, IsEmpty());
  return config;
}

constexpr char kFullExample[] =
    R"(# The watchdog's settings.
timeout = "60s"
total_timeout = "30m"
scale = 2.0
slow = "10s"
suite_timeout = "2m"
environment_timeout = "5m"

[[override]]   # first matching override wins
filter = "Network.*:Db.*-Db.Fast"
timeout = "5m"

[[override]]
filter = "*/Param.*"
timeout = "250ms"
)";

TEST(ConfigFileTest, ParsesFullExample) {
  const ConfigFile c = MustParse(kFullExample);
  EXPECT_EQ(c.path, kPath);
  EXPECT_EQ(c.timeout, absl::Seconds(60));
  EXPECT_EQ(c.timeout_line, 2);
  EXPECT_EQ(c.total_timeout, absl::Minutes(30));
  ASSERT_TRUE(c.scale.has_value());
  EXPECT_DOUBLE_EQ(*c.scale, 2.0);
  EXPECT_EQ(c.slow, absl::Seconds(10));
  EXPECT_EQ(c.suite_timeout, absl::Minutes(2));
  EXPECT_EQ(c.environment_timeout, absl::Minutes(5));

  ASSERT_EQ(c.overrides.size(), 2u);
  EXPECT_EQ(c.overrides[0].filter.text(), "Network.*:Db.*-Db.Fast");
  EXPECT_EQ(c.overrides[0].timeout, absl::Minutes(5));
  EXPECT_EQ(c.overrides[0].line, 9);
  EXPECT_EQ(c.overrides[1].filter.text(), "*/Param.*");
  EXPECT_EQ(c.overrides[1].timeout, absl::Milliseconds(250));
  EXPECT_EQ(c.overrides[1].line, 13);
}

TEST(ConfigFileTest, SignalsAsAStringOrAnArray) {
  EXPECT_FALSE(MustParse("timeout = 1\n").signals);
  const ConfigFile text =
      MustParse("timeout = 1\nsignals = \"default,TERM\"\n");
  ASSERT_TRUE(text.signals);
  EXPECT_EQ(*text.signals, DefaultSignals() | SignalBit(SIGTERM));
  EXPECT_EQ(text.signals_line, 2);
  const ConfigFile array = MustParse("signals = [\"SIGQUIT\", \"SIGUSR1\"]\n");
  EXPECT_EQ(*array.signals, SignalBit(SIGQUIT) | SignalBit(SIGUSR1));
  EXPECT_EQ(*MustParse("signals = \"none\"\n").signals, 0u);
}

TEST(ConfigFileTest, FindOverridePicksFirstMatch) {
  const ConfigFile c = MustParse(
      "[[override]]\nfilter = \"Db.*-Db.Fast\"\ntimeout = 1\n"
      "[[override]]\nfilter = \"Db.*:Net.*\"\ntimeout = 2\n"
      "[[override]]\nfilter = \"*\"\ntimeout = 3\n");
  ASSERT_EQ(c.overrides.size(), 3u);
  EXPECT_EQ(c.FindOverride("Db.Slow"), &c.overrides[0]);
  // Excluded by the first override's negative pattern, so the second wins.
  EXPECT_EQ(c.FindOverride("Db.Fast"), &c.overrides[1]);
  EXPECT_EQ(c.FindOverride("Net.Get"), &c.overrides[1]);
  const ConfigOverride* other = c.FindOverride("Other.Test");
  EXPECT_EQ(other, &c.overrides[2]);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->timeout, absl::Seconds(3));
}

TEST(ConfigFileTest, FindOverrideWithoutMatchIsNull) {
  const ConfigFile c = MustParse(kFullExample);
  EXPECT_EQ(c.FindOverride("Cache.Get"), nullptr);
  EXPECT_EQ(c.FindOverride("Db.Fast"), nullptr);
  EXPECT_EQ(c.FindOverride("Inst/Param.Name/0"), &c.overrides[1]);
  EXPECT_EQ(ConfigFile().FindOverride("Db.Slow"), nullptr);
}

TEST(ConfigFileTest, EmptyFileSetsNothing) {
  const ConfigFile c = MustParse("# nothing here\n\n");
  EXPECT_FALSE(c.timeout.has_value());
  EXPECT_FALSE(c.total_timeout.has_value());
  EXPECT_FALSE(c.slow.has_value());
  EXPECT_FALSE(c.suite_timeout.has_value());
  EXPECT_FALSE(c.environment_timeout.has_value());
  EXPECT_FALSE(c.scale.has_value());
  EXPECT_EQ(c.timeout_line, 0);
  EXPECT_THAT(c.overrides, IsEmpty());
}

TEST(ConfigFileTest, KeepGoingAndMaxStalls) {
  const ConfigFile unset = MustParse("timeout = 1\n");
  EXPECT_FALSE(unset.keep_going.has_value());
  EXPECT_FALSE(unset.max_stalls.has_value());
  const ConfigFile on = MustParse("keep_going = true\nmax_stalls = 3\n");
  EXPECT_EQ(on.keep_going, true);
  EXPECT_EQ(on.max_stalls, 3);
  const ConfigFile off = MustParse("keep_going = false\nmax_stalls = 0\n");
  EXPECT_EQ(off.keep_going, false);
  EXPECT_EQ(off.max_stalls, 0);
  EXPECT_EQ(MustParse("max_stalls = 1000000\n").max_stalls, 1000000);
  // TOML's other spellings of an integer.
  EXPECT_EQ(MustParse("max_stalls = 0x10\n").max_stalls, 16);
  EXPECT_EQ(MustParse("max_stalls = 1_000\n").max_stalls, 1000);
}

TEST(ConfigFileTest, NumbersAreSeconds) {
  const ConfigFile c = MustParse(
      "timeout = 90\ntotal_timeout = 1.5\nslow = 0.25\nsuite_timeout = 0\n"
      "environment_timeout = 3600\nscale = 3\n"
      "[[override]]\nfilter = \"A.B\"\ntimeout = 0.001\n");
  EXPECT_EQ(c.timeout, absl::Seconds(90));
  EXPECT_EQ(c.timeout_line, 1);
  EXPECT_EQ(c.total_timeout, absl::Milliseconds(1500));
  EXPECT_EQ(c.slow, absl::Milliseconds(250));
  EXPECT_EQ(c.suite_timeout, absl::ZeroDuration());
  EXPECT_EQ(c.environment_timeout, absl::Hours(1));
  ASSERT_TRUE(c.scale.has_value());
  EXPECT_DOUBLE_EQ(*c.scale, 3.0);
  ASSERT_EQ(c.overrides.size(), 1u);
  EXPECT_EQ(c.overrides[0].timeout, absl::Milliseconds(1));
}

TEST(ConfigFileTest, ZeroMeansOffAndIsKept) {
  const ConfigFile c = MustParse(
      "timeout = \"0\"\nslow = 0\ntotal_timeout = \"0s\"\n"
      "[[override]]\nfilter = \"A.*\"\ntimeout = \"0\"\n");
  EXPECT_EQ(c.timeout, absl::ZeroDuration());
  EXPECT_EQ(c.slow, absl::ZeroDuration());
  EXPECT_EQ(c.total_timeout, absl::ZeroDuration());
  ASSERT_EQ(c.overrides.size(), 1u);
  EXPECT_EQ(c.overrides[0].timeout, absl::ZeroDuration());
}

TEST(ConfigFileTest, InlineArrayOfTablesIsAccepted) {
  const ConfigFile c = MustParse(
      "override = [\n  { filter = \"A.*\", timeout = \"1s\" },\n"
      "  { filter = \"B.*\", timeout = 2 },\n]\n");
  ASSERT_EQ(c.overrides.size(), 2u);
  EXPECT_EQ(c.overrides[0].line, 2);
  EXPECT_EQ(c.overrides[1].line, 3);
  const ConfigOverride* b = c.FindOverride("B.x");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->timeout, absl::Seconds(2));
}

struct BadCase {
  const char* text;
  // The message must start with this ("cfg.toml:LINE: ...")...
  const char* prefix;
  // ...and contain this.
  const char* part;
};

void PrintTo(const BadCase& c, std::ostream* os) {
  *os << "text: " << ::testing::PrintToString(std::string(c.text));
}

class ConfigFileRejectsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigFileRejectsTest, NamesFileLineAndCulprit) {
  const BadCase& c = GetParam();
  ConfigFile config;
  config.path = "untouched";
  std::string error;
  EXPECT_FALSE(ParseConfigText(c.text, kPath, &config, &error)) << "--- text:\n"
                                                                << c.text;
  EXPECT_THAT(error, StartsWith(c.prefix)) << "--- text:\n" << c.text;
  EXPECT_THAT(error, HasSubstr(c.part)) << "--- text:\n" << c.text;
  EXPECT_EQ(config.path, "untouched");
}

INSTANTIATE_TEST_SUITE_P(
    ConfigFile, ConfigFileRejectsTest,
    ::testing::Values(
        // TOML syntax errors: PATH:LINE:COL.
        BadCase{"timeout = \"1s\"\nslow = \n",
                "cfg.toml:2:8: ", "expected value"},
        BadCase{"timeout = 1\ntimeout = 2\n", "cfg.toml:2:", "timeout"},
        BadCase{"timeout = \"1s\n", "cfg.toml:1:", "string"},
        // Unknown keys and tables, with the list of known ones.
        BadCase{"timeout = \"1s\"\ntimout = \"2s\"\n",
                "cfg.toml:2: unknown key 'timout'", "known keys: timeout,"},
        BadCase{"timeout = 1\n\n[limits]\ntimeout = 2\n",
                "cfg.toml:3: unknown key 'limits'", ""},
        BadCase{"[[overrides]]\nfilter = \"A.*\"\ntimeout = 1\n",
                "cfg.toml:1: unknown key 'overrides'", ""},
        BadCase{"[[override]]\nfilter = \"A.*\"\ntimout = 1\n",
                "cfg.toml:3: unknown key 'timout' in [[override]]",
                "known keys: filter, timeout"},
        BadCase{"[[override]]\nfilter = \"A.*\"\ntimeout = 1\n"
                "[override.extra]\nx = 1\n",
                "cfg.toml:4: unknown key 'extra' in [[override]]", ""},
        // The signal list.
        BadCase{"timeout = 1\nsignals = \"SIGKILL\"\n",
                "cfg.toml:2: 'signals': invalid value 'SIGKILL'",
                "it cannot be caught"},
        BadCase{"signals = [\"SIGTERM\", 15.5]\n",
                "cfg.toml:1:", "'signals' items must be strings"},
        BadCase{"signals = 15\n", "cfg.toml:1: 'signals' must be a string",
                "not an integer"},
        BadCase{"signals = []\n", "cfg.toml:1: 'signals': invalid value ''",
                "it is empty"},
        // Problems are reported in file order, not in key order.
        BadCase{"zzz = 1\naaa = 2\n", "cfg.toml:1: unknown key 'zzz'", ""},
        BadCase{"timeout = \"x\"\nscale = 0\n", "cfg.toml:1: 'timeout'", ""},
        // Wrong types.
        BadCase{"timeout = true\n",
                "cfg.toml:1: 'timeout' must be a duration string like "
                "\"90s\" or a number of seconds, not a boolean",
                ""},
        BadCase{"\nslow = [1]\n", "cfg.toml:2: 'slow' must be a duration",
                "not an array"},
        BadCase{"total_timeout = 1979-05-27\n",
                "cfg.toml:1: 'total_timeout' must be a duration", "not a date"},
        BadCase{"suite_timeout = { s = 1 }\n",
                "cfg.toml:1: 'suite_timeout' must be a duration",
                "not a table"},
        // Bad durations: ParseDuration's reason follows.
        BadCase{"timeout = \"banana\"\n",
                "cfg.toml:1: 'timeout': invalid value 'banana': ",
                "expected a duration such as 90s"},
        BadCase{"timeout = \"\"\n", "cfg.toml:1: 'timeout': invalid value ''",
                "empty"},
        BadCase{"suite_timeout = -5\n",
                "cfg.toml:1: 'suite_timeout': invalid value '-5': ",
                "cannot be negative"},
        BadCase{"slow = -0.5\n", "cfg.toml:1: 'slow': invalid value '-0.5': ",
                "cannot be negative"},
        BadCase{"environment_timeout = nan\n",
                "cfg.toml:1: 'environment_timeout': invalid value 'nan'",
                "not a finite number"},
        BadCase{"timeout = inf\n", "cfg.toml:1: 'timeout': invalid value",
                "not a finite number"},
        BadCase{"timeout = 1e300\n",
                "cfg.toml:1: 'timeout': invalid value '1e+300'", "too large"},
        BadCase{"timeout = 9223372036854775807\n",
                "cfg.toml:1: 'timeout': invalid value '9223372036854775807'",
                "too large"},
        BadCase{"timeout = \"1000000h\"\n", "cfg.toml:1: 'timeout'",
                "too large"},
        // Scale.
        BadCase{"scale = 0\n",
                "cfg.toml:1: 'scale' must be a number greater than 0, not 0",
                ""},
        BadCase{"\n\nscale = -1.5\n",
                "cfg.toml:3: 'scale' must be a number greater than 0, not "
                "-1.5",
                ""},
        BadCase{"scale = nan\n", "cfg.toml:1: 'scale' must be a number",
                "not nan"},
        BadCase{"scale = inf\n", "cfg.toml:1: 'scale' must be a number",
                "not inf"},
        BadCase{"scale = \"2\"\n", "cfg.toml:1: 'scale' must be a number",
                "not a string"},
        BadCase{"scale = false\n", "cfg.toml:1: 'scale' must be a number",
                "not a boolean"},
        // Overrides.
        BadCase{"timeout = 1\n[[override]]\ntimeout = 5\n",
                "cfg.toml:2: [[override]] has no 'filter'",
                "needs both 'filter' and 'timeout'"},
        BadCase{"[[override]]\nfilter = \"A.*\"\n\n[[override]]\n"
                "filter = \"B.*\"\ntimeout = 1\n",
                "cfg.toml:1: [[override]] has no 'timeout'", ""},
        BadCase{"[[override]]\n", "cfg.toml:1: [[override]] has no 'filter'",
                ""},
        BadCase{"override = 3\n",
                "cfg.toml:1: 'override' must be an array of tables written "
                "as [[override]], not an integer",
                ""},
        BadCase{"[override]\nfilter = \"A.*\"\ntimeout = 1\n",
                "cfg.toml:1: 'override' must be an array of tables",
                "not a table"},
        BadCase{"override = [\n  1,\n]\n",
                "cfg.toml:2: 'override' must be an array of tables",
                "an element is an integer"},
        BadCase{"[[override]]\nfilter = \"A::B\"\ntimeout = 1\n",
                "cfg.toml:2: override filter: bad pattern 'A::B': ",
                "alternative 2 of the positive part is empty"},
        BadCase{"[[override]]\nfilter = \"A-B-C\"\ntimeout = 1\n",
                "cfg.toml:2: override filter: bad pattern 'A-B-C': ",
                "more than one '-'"},
        BadCase{"[[override]]\nfilter = \"\"\ntimeout = 1\n",
                "cfg.toml:2: override filter: bad pattern '': it is empty", ""},
        BadCase{"[[override]]\nfilter = 5\ntimeout = 1\n",
                "cfg.toml:2: override 'filter' must be a string",
                "not an integer"},
        BadCase{"[[override]]\nfilter = [\"A.*\"]\ntimeout = 1\n",
                "cfg.toml:2: override 'filter' must be a string",
                "not an array"},
        BadCase{"[[override]]\nfilter = \"A.*\"\n\ntimeout = \"soon\"\n",
                "cfg.toml:4: 'timeout': invalid value 'soon': ",
                "expected a duration"},
        BadCase{"[[override]]\nfilter = \"A.*\"\ntimeout = false\n",
                "cfg.toml:3: 'timeout' must be a duration string",
                "not a boolean"},
        // Keep going: a boolean only, and a count.
        BadCase{"timeout = 1\nkeep_going = \"yes\"\n",
                "cfg.toml:2: 'keep_going' must be true or false, not the "
                "string \"yes\"",
                ""},
        BadCase{"keep_going = \"true\"\n",
                "cfg.toml:1: 'keep_going' must be true or false",
                "not the string \"true\""},
        BadCase{"keep_going = 1\n",
                "cfg.toml:1: 'keep_going' must be true or false, not 1", ""},
        BadCase{"keep_going = 0.5\n",
                "cfg.toml:1: 'keep_going' must be true or false, not 0.5", ""},
        BadCase{"keep_going = [true]\n",
                "cfg.toml:1: 'keep_going' must be true or false, not an array",
                ""},
        BadCase{"keep_going = true\nkeep_going = false\n",
                "cfg.toml:2:", "keep_going"},
        BadCase{"\nmax_stalls = -1\n",
                "cfg.toml:2: 'max_stalls' must be a whole number from 0 to "
                "1000000, not -1",
                ""},
        BadCase{"max_stalls = 1000001\n",
                "cfg.toml:1: 'max_stalls' must be a whole number",
                "not 1000001"},
        BadCase{"max_stalls = 9223372036854775807\n",
                "cfg.toml:1: 'max_stalls' must be a whole number",
                "not 9223372036854775807"},
        BadCase{"max_stalls = 2.5\n",
                "cfg.toml:1: 'max_stalls' must be a whole number", "not 2.5"},
        BadCase{"max_stalls = 3.0\n",
                "cfg.toml:1: 'max_stalls' must be a whole number", "not 3"},
        BadCase{"max_stalls = \"10\"\n",
                "cfg.toml:1: 'max_stalls' must be a whole number",
                "not the string \"10\""},
        BadCase{"max_stalls = true\n",
                "cfg.toml:1: 'max_stalls' must be a whole number",
                "not a boolean"},
        BadCase{"max_stalls = { n = 1 }\n",
                "cfg.toml:1: 'max_stalls' must be a whole number",
                "not a table"},
        BadCase{"keep_going = true\nmax_stals = 3\n",
                "cfg.toml:2: unknown key 'max_stals'",
                "keep_going, max_stalls"},
        BadCase{"[[override]]\nfilter = \"A.*\"\ntimeout = 1\n"
                "keep_going = true\n",
                "cfg.toml:4: unknown key 'keep_going' in [[override]]", ""}));

// Found by tests/fuzz/fuzz_config_file: toml++ up to 3.4.0 reaches
// __builtin_unreachable(), undefined behaviour, when it asks whether some
// non-ASCII characters are whitespace: any character outside strings and
// comments, and in a multi-line string the ones after a backslash. Those
// never reach it now: a clear error names the character and where it is
// (config/toml_compat.h).
TEST(ConfigFileTest, NonAsciiWhereTomlppMisreadsItIsRefusedFirst) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      // The fuzzer's input: U+FEBF, then more lines.
      {"\xef\xba\xbf = 2\n1caa -inf\n",
       "cfg.toml:1:1: character '\xef\xba\xbf' (U+FEBF) outside a string or "
       "comment; TOML allows only ASCII there"},
      {"\xc3\xa9 = 1\n", "cfg.toml:1:1: character '\xc3\xa9' (U+00E9) outside"},
      {"timeout = 1\xc3\xa9\n", "cfg.toml:1:12: character '\xc3\xa9' (U+00E9)"},
      {"# caf\xc3\xa9\nscale = 2 \xe3\x80\x81\n",
       "cfg.toml:2:11: character '\xe3\x80\x81' (U+3001) outside"},
      // After a byte order mark, which toml++ skips (toml++ issue 295).
      {"\xef\xbb\xbf\xcc\xaa", "cfg.toml:1:1: character '\xcc\xaa' (U+032A)"},
      // After a line-ending backslash in a multi-line string (toml++ issue
      // 190), and right after a backslash.
      {"[[override]]\nfilter = \"\"\"\\\n  \xc2\xa7.*\"\"\"\ntimeout = 1\n",
       "cfg.toml:3:3: character '\xc2\xa7' (U+00A7) right after a backslash "
       "in a multi-line string is not supported; write it as \\u00A7"},
      {"timeout = \"\"\"\\\xc2\xa7\"\"\"\n",
       "cfg.toml:1:15: character '\xc2\xa7' (U+00A7) right after a backslash"},
      // The fuzzer again: a quote after a date, a space and part of a time,
      // where toml++'s look-ahead for the time reads what is quoted.
      {"outimeout = 1979-05-27 0 \"\xc3\xa9\"\n= 1\n",
       "cfg.toml:1:27: character '\xc3\xa9' (U+00E9) outside a string"},
      {"timeout = 1979-05-27 0 '\xc3\xa9'\n",
       "cfg.toml:1:25: character '\xc3\xa9' (U+00E9) outside a string"},
  };
  for (const auto& c : cases) {
    ConfigFile config;
    config.path = "untouched";
    std::string error;
    EXPECT_FALSE(ParseConfigText(c.text, kPath, &config, &error)) << c.text;
    EXPECT_THAT(error, StartsWith(c.error)) << c.text;
    EXPECT_EQ(config.path, "untouched");
  }
}

TEST(ConfigFileTest, NonAsciiInStringsAndCommentsIsFine) {
  const ConfigFile c = MustParse(
      "\xef\xbb\xbf# Gr\xc3\xbc\xc3\x9f\xc3\xa9 \xe2\x80\x94 comments may say "
      "anything\n"
      "timeout = \"90s\"  # \xc3\xa9\n"
      "[[override]]\nfilter = \"Gr\xc3\xbc\xc3\x9f"
      "e.*\"\ntimeout = 1\n"
      "[[override]]\nfilter = '''\xc3\xa9.*'''\ntimeout = 2\n"
      "[[override]]\nfilter = \"\"\"\\\n  A.\\u00e9\xc3\xa9\"\"\"\ntimeout = "
      "3\n"
      "[[override]]\nfilter = \"\\\"\xc3\xa9\\\"\"\ntimeout = 4\n");
  ASSERT_EQ(c.overrides.size(), 4u);
  EXPECT_EQ(c.timeout, absl::Seconds(90));
  EXPECT_EQ(c.overrides[0].filter.text(),
            "Gr\xc3\xbc\xc3\x9f"
            "e.*");
  EXPECT_EQ(c.overrides[1].filter.text(), "\xc3\xa9.*");
  EXPECT_EQ(c.overrides[2].filter.text(), "A.\xc3\xa9\xc3\xa9");
  EXPECT_EQ(c.overrides[3].filter.text(), "\"\xc3\xa9\"");
}

// A date-time with a space is followed only by junk in valid TOML: after
// it, a comment, a separator or a new line ends what is refused.
TEST(ConfigFileTest, NonAsciiAfterADateTimeIsFineInCommentsAndNextValues) {
  std::string error;
  ConfigFile config;
  for (const char* text :
       {"x = 1979-05-27 07:32:00 # caf\xc3\xa9\ntimeout = 1\n",
        "x = [1979-05-27 07:32:00 , \"caf\xc3\xa9\"]\ntimeout = 1\n",
        "x = {d = 1979-05-27 07:32:00 , s = \"caf\xc3\xa9\"}\ntimeout = 1\n",
        "x = 1979-05-27 07:32:00\nfilter = \"caf\xc3\xa9\"\n"}) {
    error.clear();
    ParseConfigText(text, kPath, &config, &error);
    EXPECT_THAT(error, ::testing::Not(HasSubstr("U+00E9"))) << text;
  }
}

// A fresh path in the test's temporary directory; the file is created.
std::string MakeTempFile() {
  std::string path = ::testing::TempDir() + "config_file_test_XXXXXX";
  const int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0) << path;
  if (fd >= 0) close(fd);
  return path;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), f), text.size());
  ASSERT_EQ(std::fclose(f), 0);
}

TEST(ConfigFileTest, LoadMissingFileNamesPathAndReason) {
  const std::string path = MakeTempFile();
  ASSERT_EQ(unlink(path.c_str()), 0);
  ConfigFile config;
  std::string error;
  EXPECT_FALSE(LoadConfigFile(path, &config, &error));
  EXPECT_EQ(error, "cannot read config file '" + path +
                       "': No such file or directory");
}

TEST(ConfigFileTest, LoadDirectoryFails) {
  const std::string dir = ::testing::TempDir();
  ConfigFile config;
  std::string error;
  EXPECT_FALSE(LoadConfigFile(dir, &config, &error));
  EXPECT_EQ(error, "cannot read config file '" + dir + "': Is a directory");
}

// A FIFO nobody writes to blocked the old fopen for ever.
TEST(ConfigFileTest, LoadFifoFailsAtOnce) {
  const std::string path = MakeTempFile();
  ASSERT_EQ(unlink(path.c_str()), 0);
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  ConfigFile config;
  std::string error;
  EXPECT_FALSE(LoadConfigFile(path, &config, &error));
  EXPECT_EQ(error,
            "cannot read config file '" + path + "': not a regular file");
  unlink(path.c_str());
}

// /dev/zero never ends: the old loop read until bad_alloc.
TEST(ConfigFileTest, LoadDeviceFails) {
  ConfigFile config;
  std::string error;
  EXPECT_FALSE(LoadConfigFile("/dev/zero", &config, &error));
  EXPECT_EQ(error, "cannot read config file '/dev/zero': not a regular file");
}

TEST(ConfigFileTest, LoadLargerThanOneMebibyteFails) {
  const std::string path = MakeTempFile();
  // Comment lines: valid TOML, so only the size can be the reason.
  std::string text;
  while (text.size() <= (size_t{1} << 20)) text += "# padding padding\n";
  WriteFile(path, text);
  ConfigFile config;
  std::string error;
  EXPECT_FALSE(LoadConfigFile(path, &config, &error));
  EXPECT_EQ(error, "cannot read config file '" + path + "': larger than 1 MiB");
  // Exactly 1 MiB is read.
  WriteFile(path, std::string((size_t{1} << 20) - 1, '#') + "\n");
  EXPECT_TRUE(LoadConfigFile(path, &config, &error)) << error;
  unlink(path.c_str());
}

// Bazel's runfiles are symbolic links: they are followed.
TEST(ConfigFileTest, LoadThroughSymlink) {
  const std::string path = MakeTempFile();
  WriteFile(path, "timeout = \"7s\"\n");
  const std::string link = path + ".link";
  unlink(link.c_str());
  ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
  ConfigFile config;
  std::string error;
  EXPECT_TRUE(LoadConfigFile(link, &config, &error)) << error;
  EXPECT_EQ(config.timeout, absl::Seconds(7));
  unlink(link.c_str());
  unlink(path.c_str());
}

TEST(ConfigFileTest, LoadRealFileRoundTrip) {
  const std::string path = MakeTempFile();
  WriteFile(path, kFullExample);
  ConfigFile config;
  std::string error;
  ASSERT_TRUE(LoadConfigFile(path, &config, &error)) << error;
  EXPECT_EQ(config.path, path);
  EXPECT_EQ(config.timeout, absl::Seconds(60));
  EXPECT_EQ(config.timeout_line, 2);
  EXPECT_EQ(config.total_timeout, absl::Minutes(30));
  ASSERT_EQ(config.overrides.size(), 2u);
  EXPECT_EQ(config.overrides[1].line, 13);
  EXPECT_EQ(config.FindOverride("Db.Slow"), &config.overrides[0]);

  // Errors from a real file name the real path.
  WriteFile(path, "timeout = \"60s\"\nscael = 2\n");
  EXPECT_FALSE(LoadConfigFile(path, &config, &error));
  EXPECT_THAT(error, StartsWith(path + ":2: unknown key 'scael'"));
  WriteFile(path, "timeout = [\n");
  EXPECT_FALSE(LoadConfigFile(path, &config, &error));
  EXPECT_THAT(error, StartsWith(path + ":"));
  EXPECT_EQ(unlink(path.c_str()), 0);
}

}  // namespace
}  // namespace gtest_watchdog_internal
