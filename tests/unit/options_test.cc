// Tests for ExtractOptions (gtest_watchdog/config/options.h): argv surgery,
// flag/environment precedence and error messages, with a fake getenv.

#include "gtest_watchdog/config/options.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The fake environment read by FakeGetEnv (a plain function pointer cannot
// capture, so it reads this static map).
std::map<std::string, std::string>& FakeEnv() {
  static auto* env = new std::map<std::string, std::string>();
  return *env;
}

const char* FakeGetEnv(const char* name) {
  const auto it = FakeEnv().find(name);
  return it == FakeEnv().end() ? nullptr : it->second.c_str();
}

// Owns mutable copies of the argument strings and a NULL-terminated argv.
class Args {
 public:
  Args(std::initializer_list<const char*> args) {
    for (const char* a : args) storage_.emplace_back(a);
    for (std::string& s : storage_) argv_.push_back(&s[0]);
    argv_.push_back(nullptr);
    argc_ = static_cast<int>(storage_.size());
  }
  int* argc() { return &argc_; }
  char** argv() { return argv_.data(); }
  // The arguments left in argv[0..argc).
  std::vector<std::string> Remaining() const {
    return std::vector<std::string>(argv_.begin(), argv_.begin() + argc_);
  }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> argv_;
  int argc_ = 0;
};

class ExtractOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { FakeEnv().clear(); }
  void TearDown() override { FakeEnv().clear(); }

  // Runs ExtractOptions on `args`; returns its result.
  bool Extract(Args& args) {
    error_.clear();
    return ExtractOptions(args.argc(), args.argv(), &FakeGetEnv, &options_,
                          &error_);
  }

  Options options_;
  std::string error_;
};

TEST_F(ExtractOptionsTest, RemovesAllThreeSpellingsAndKeepsOthersInOrder) {
  for (const char* flag :
       {"--gtest_watchdog_timeout=5s", "-gtest_watchdog_timeout=5s",
        "/gtest_watchdog_timeout=5s"}) {
    SCOPED_TRACE(flag);
    Args args({"prog", "--gtest_filter=Foo.*:Bar.Baz", "positional1", flag,
               "--gtest_list_tests", "--my_flag=1", "positional2"});
    ASSERT_TRUE(Extract(args)) << error_;
    EXPECT_THAT(
        args.Remaining(),
        ElementsAre("prog", "--gtest_filter=Foo.*:Bar.Baz", "positional1",
                    "--gtest_list_tests", "--my_flag=1", "positional2"));
    EXPECT_EQ(*args.argc(), 6);
    EXPECT_EQ(args.argv()[*args.argc()], nullptr);
    EXPECT_EQ(options_.timeout, absl::Seconds(5));
    EXPECT_EQ(options_.timeout_source, Source::kFlag);
    EXPECT_EQ(options_.timeout_origin, "--gtest_watchdog_timeout");
  }
}

TEST_F(ExtractOptionsTest, ListTimeoutsTakesABoolOrTsv) {
  const std::pair<const char*, ListFormat> cases[] = {
      {"--gtest_watchdog_list_timeouts", ListFormat::kTable},
      {"--gtest_watchdog_list_timeouts=yes", ListFormat::kTable},
      {"--gtest_watchdog_list_timeouts=0", ListFormat::kNone},
      {"--gtest_watchdog_list_timeouts=tsv", ListFormat::kTsv}};
  for (const auto& [flag, want] : cases) {
    SCOPED_TRACE(flag);
    options_ = Options();
    Args args({"prog", flag});
    ASSERT_TRUE(Extract(args)) << error_;
    EXPECT_EQ(options_.list_timeouts, want);
  }
  FakeEnv()["GTEST_WATCHDOG_LIST_TIMEOUTS"] = "tsv";
  options_ = Options();
  Args from_env({"prog"});
  ASSERT_TRUE(Extract(from_env)) << error_;
  EXPECT_EQ(options_.list_timeouts, ListFormat::kTsv);
}

TEST_F(ExtractOptionsTest, ListTimeoutsRefusesOtherFormats) {
  Args args({"prog", "--gtest_watchdog_list_timeouts=csv"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_list_timeouts"));
  EXPECT_THAT(error_, HasSubstr("'csv'"));
  EXPECT_THAT(error_, HasSubstr("tsv"));
}

TEST_F(ExtractOptionsTest, FlagAtTheEndAndAtTheStart) {
  Args args({"prog", "--gtest_watchdog_timeout=1s", "a", "b",
             "--gtest_watchdog_timeout=2s"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "a", "b"));
  EXPECT_EQ(args.argv()[3], nullptr);
  // The last occurrence wins, as with GoogleTest's own flags.
  EXPECT_EQ(options_.timeout, absl::Seconds(2));
}

TEST_F(ExtractOptionsTest, NoOurFlagsLeavesArgvUntouched) {
  Args args({"prog", "--gtest_filter=A.B", "--gtest_repeat=3", "x",
             "--gtest_watchdogtimeout=5s", "--gtest_watchdog"});
  char** const before = args.argv();
  std::vector<char*> pointers(before, before + 6);
  ASSERT_TRUE(Extract(args)) << error_;
  ASSERT_EQ(*args.argc(), 6);
  EXPECT_THAT(std::vector<char*>(args.argv(), args.argv() + 6),
              ElementsAreArray(pointers));
  EXPECT_EQ(args.argv()[6], nullptr);
}

TEST_F(ExtractOptionsTest, ArgvZeroIsNeverRemoved) {
  Args args({"--gtest_watchdog_timeout=5s", "--gtest_watchdog_timeout=7s"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_THAT(args.Remaining(), ElementsAre("--gtest_watchdog_timeout=5s"));
  EXPECT_EQ(args.argv()[1], nullptr);
  EXPECT_EQ(options_.timeout, absl::Seconds(7));
}

TEST_F(ExtractOptionsTest, OnlyArgvZero) {
  Args args({"prog"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_THAT(args.Remaining(), ElementsAre("prog"));
  EXPECT_EQ(args.argv()[1], nullptr);
}

TEST_F(ExtractOptionsTest, BuiltInDefaultWhenNeitherFlagNorEnv) {
  Args args({"prog", "--gtest_filter=*"});
  options_.timeout = absl::Seconds(1);  // must be overwritten
  options_.timeout_source = Source::kFlag;
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(options_.timeout, absl::Seconds(60));
  EXPECT_EQ(options_.timeout_source, Source::kBuiltIn);
  EXPECT_EQ(options_.timeout_origin, "built-in default");
}

TEST_F(ExtractOptionsTest, EnvironmentUsedWhenNoFlag) {
  FakeEnv()["GTEST_WATCHDOG_TIMEOUT"] = "250ms";
  Args args({"prog"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(options_.timeout, absl::Milliseconds(250));
  EXPECT_EQ(options_.timeout_source, Source::kEnvironment);
  EXPECT_EQ(options_.timeout_origin, "GTEST_WATCHDOG_TIMEOUT");
}

TEST_F(ExtractOptionsTest, FlagWinsOverEnvironment) {
  FakeEnv()["GTEST_WATCHDOG_TIMEOUT"] = "250ms";
  Args args({"prog", "-gtest_watchdog_timeout=3m"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(options_.timeout, absl::Minutes(3));
  EXPECT_EQ(options_.timeout_source, Source::kFlag);
  EXPECT_EQ(options_.timeout_origin, "--gtest_watchdog_timeout");
}

TEST_F(ExtractOptionsTest, ZeroSwitchesOffAndIsAccepted) {
  Args args({"prog", "--gtest_watchdog_timeout=0"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(options_.timeout, absl::ZeroDuration());
  EXPECT_EQ(options_.timeout_source, Source::kFlag);
}

TEST_F(ExtractOptionsTest, OtherEnvironmentVariablesAreIgnored) {
  FakeEnv()["GTEST_WATCHDOG_TIMEOUTX"] = "banana";
  FakeEnv()["GTEST_TIMEOUT"] = "banana";
  Args args({"prog"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(options_.timeout_source, Source::kBuiltIn);
}

TEST_F(ExtractOptionsTest, BadFlagValueNamesFlagAndValue) {
  const Options before = options_;
  Args args({"prog", "a", "--gtest_watchdog_timeout=banana", "b"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_timeout"));
  EXPECT_THAT(error_, HasSubstr("'banana'"));
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "a", "b"));
  EXPECT_EQ(args.argv()[3], nullptr);
  EXPECT_EQ(options_.timeout, before.timeout);
}

TEST_F(ExtractOptionsTest, FlagWithoutValueIsAnError) {
  Args args({"prog", "--gtest_watchdog_timeout", "5s"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_timeout"));
  EXPECT_THAT(error_, HasSubstr("value"));
  // Only our flag goes; the next argument is not swallowed as its value.
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "5s"));
  EXPECT_EQ(args.argv()[2], nullptr);
}

TEST_F(ExtractOptionsTest, FlagWithEmptyValueIsAnError) {
  Args args({"prog", "--gtest_watchdog_timeout="});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_timeout"));
  EXPECT_THAT(error_, HasSubstr("empty"));
  EXPECT_THAT(args.Remaining(), ElementsAre("prog"));
}

TEST_F(ExtractOptionsTest, BadEnvironmentValueNamesVariableAndValue) {
  FakeEnv()["GTEST_WATCHDOG_TIMEOUT"] = "-5s";
  Args args({"prog"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("GTEST_WATCHDOG_TIMEOUT"));
  EXPECT_THAT(error_, HasSubstr("'-5s'"));
  EXPECT_THAT(error_, HasSubstr("negative"));
}

TEST_F(ExtractOptionsTest, EmptyEnvironmentValueIsAnError) {
  FakeEnv()["GTEST_WATCHDOG_TIMEOUT"] = "";
  Args args({"prog"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("GTEST_WATCHDOG_TIMEOUT"));
  EXPECT_THAT(error_, HasSubstr("empty"));
}

TEST_F(ExtractOptionsTest, UnknownFlagIsNamedAndRemoved) {
  Args args({"prog", "--gtest_watchdog_bogus=1", "--keep"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_bogus=1"));
  EXPECT_THAT(error_, HasSubstr("unknown"));
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "--keep"));
  EXPECT_EQ(args.argv()[2], nullptr);
}

TEST_F(ExtractOptionsTest, ReportPathIsMadeAbsolute) {
  Args args({"prog", "--gtest_watchdog_report=r.json", "--gtest_filter=X.Y"});
  ASSERT_TRUE(Extract(args)) << error_;
  ASSERT_TRUE(options_.report);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(*options_.report.value, std::string(cwd) + "/r.json");
  EXPECT_EQ(options_.report.origin, "--gtest_watchdog_report");
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "--gtest_filter=X.Y"));
}

TEST_F(ExtractOptionsTest, ReportPathFromTheEnvironment) {
  FakeEnv()["GTEST_WATCHDOG_REPORT"] = "/tmp/stall.json";
  Args args({"prog"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(*options_.report.value, "/tmp/stall.json");
  EXPECT_EQ(options_.report.origin, "GTEST_WATCHDOG_REPORT");
}

TEST_F(ExtractOptionsTest, SignalsFromFlagWinOverEnvironment) {
  Args none({"prog"});
  ASSERT_TRUE(Extract(none)) << error_;
  EXPECT_FALSE(options_.signals) << "not given: the config file or default";
  FakeEnv()["GTEST_WATCHDOG_SIGNALS"] = "default,SIGUSR1";
  Args env({"prog"});
  ASSERT_TRUE(Extract(env)) << error_;
  EXPECT_EQ(*options_.signals.value, DefaultSignals() | SignalBit(SIGUSR1));
  EXPECT_EQ(options_.signals.origin, "GTEST_WATCHDOG_SIGNALS");
  Args flag({"prog", "--gtest_watchdog_signals=SIGTERM"});
  ASSERT_TRUE(Extract(flag)) << error_;
  EXPECT_EQ(*options_.signals.value, SignalBit(SIGTERM));
  EXPECT_EQ(options_.signals.origin, "--gtest_watchdog_signals");
}

TEST_F(ExtractOptionsTest, BadSignalsNameTheFlagAndValue) {
  Args args({"prog", "--gtest_watchdog_signals=SIGSTOP"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_signals: invalid value "
                                "'SIGSTOP': SIGSTOP cannot be used"));
  Args bare({"prog", "--gtest_watchdog_signals"});
  EXPECT_FALSE(Extract(bare));
  EXPECT_THAT(error_, HasSubstr("needs a value, e.g. "
                                "--gtest_watchdog_signals=default,SIGTERM"));
}

TEST_F(ExtractOptionsTest, ReportPathErrorsNameTheFlagAndValue) {
  const std::string dir = testing::TempDir() + "options_report_dir";
  mkdir(dir.c_str(), 0755);
  const std::string link = testing::TempDir() + "options_report_link";
  unlink(link.c_str());
  ASSERT_EQ(symlink("/tmp/whatever.json", link.c_str()), 0);
  const struct {
    std::string value;
    std::string why;
  } cases[] = {
      {"", "it is empty"},
      {"/nonexistent-dir/r.json",
       "its directory '/nonexistent-dir' does not "
       "exist"},
      {dir, "it exists and is not a regular file"},
      {dir + "/", "it names a directory"},
      {link, "it is a symbolic link"},
      {"/tmp/" + std::string(5000, 'x'), "it is longer than 4095 bytes"},
  };
  for (const auto& c : cases) {
    const std::string arg = "--gtest_watchdog_report=" + c.value;
    Args args({"prog", arg.c_str()});
    EXPECT_FALSE(Extract(args)) << c.value;
    EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_report: invalid value '" +
                                  c.value + "'"));
    EXPECT_THAT(error_, HasSubstr(c.why));
  }
  unlink(link.c_str());
  rmdir(dir.c_str());
}

// A fresh directory without links in its path, removed with what the
// test made in it (one level of subdirectories).
class ReportDir {
 public:
  ReportDir() {
    std::string tmpl = testing::TempDir() + "options_report_XXXXXX";
    char real[PATH_MAX];
    if (mkdtemp(tmpl.data()) == nullptr ||
        realpath(tmpl.c_str(), real) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << strerror(errno);
      path_ = tmpl;
    } else {
      path_ = real;
    }
  }
  ~ReportDir() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      if (unlink(it->c_str()) != 0) rmdir(it->c_str());
    }
    rmdir(path_.c_str());
  }
  // `name` inside, removed at the end (create it yourself).
  std::string Add(const std::string& name) {
    made_.push_back(path_ + "/" + name);
    return made_.back();
  }
  std::string Dir(const std::string& name, mode_t mode = 0755) {
    std::string p = Add(name);
    EXPECT_EQ(mkdir(p.c_str(), 0700), 0) << p;
    EXPECT_EQ(chmod(p.c_str(), mode), 0) << p;  // not cut by the umask
    return p;
  }
  std::string File(const std::string& name) {
    std::string p = Add(name);
    const int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << p;
    if (fd >= 0) close(fd);
    return p;
  }

 private:
  std::string path_;
  std::vector<std::string> made_;
};

TEST_F(ExtractOptionsTest, ReportPathRefusedAtStartUpAsTheWriterWould) {
  ReportDir dir;
  const std::string original = dir.File("original");
  const std::string linked = dir.Add("linked.json");
  ASSERT_EQ(link(original.c_str(), linked.c_str()), 0);
  const struct {
    std::string value;
    std::string why;
  } cases[] = {
      {linked, "it is a regular file with 2 hard links"},
      {original + "/r.json", "'" + original +
                                 "' on its path is not a "
                                 "directory"},
  };
  for (const auto& c : cases) {
    const std::string arg = "--gtest_watchdog_report=" + c.value;
    Args args({"prog", arg.c_str()});
    EXPECT_FALSE(Extract(args)) << c.value;
    EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_report: invalid value '" +
                                  c.value + "': " + c.why));
  }
  // Sticky, like /tmp, or writable by all but ours (an emptyDir volume):
  // accepted.
  for (const std::string& open :
       {dir.Dir("sticky", 01777), dir.Dir("open", 0777)}) {
    const std::string arg = "--gtest_watchdog_report=" + open + "/r.json";
    Args ok({"prog", arg.c_str()});
    EXPECT_TRUE(Extract(ok)) << error_;
  }
}

TEST_F(ExtractOptionsTest, ReportPathLinksInTheDirectoryAreResolvedOnce) {
  // The writer follows no links: they are resolved here, at start-up, and
  // the path the helper gets has none.
  ReportDir dir;
  const std::string real = dir.Dir("real");
  const std::string link = dir.Add("link");
  ASSERT_EQ(symlink("real", link.c_str()), 0);
  const std::string arg = "--gtest_watchdog_report=" + link + "/./r.json";
  Args args({"prog", arg.c_str()});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_EQ(*options_.report.value, real + "/r.json");
  // The link at the file itself is still refused (the writer would).
  const std::string file_link = dir.Add("r.json");
  ASSERT_EQ(symlink("real/r.json", file_link.c_str()), 0);
  const std::string bad = "--gtest_watchdog_report=" + file_link;
  Args refused({"prog", bad.c_str()});
  EXPECT_FALSE(Extract(refused));
  EXPECT_THAT(error_, HasSubstr("it is a symbolic link"));
}

TEST_F(ExtractOptionsTest, ReportPathOfAnotherUserRefused) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to chown to another user (uid 65534)";
  }
  ReportDir dir;
  const std::string file = dir.File("theirs.json");
  ASSERT_EQ(chown(file.c_str(), 65534, 65534), 0) << strerror(errno);
  const std::string theirs = dir.Dir("theirs");
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0) << strerror(errno);
  const std::string link = dir.Add("link");
  ASSERT_EQ(symlink(".", link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), 65534, 65534), 0) << strerror(errno);
  const struct {
    std::string value;
    std::string why;
  } cases[] = {
      {file, "it belongs to uid 65534, not to this user (uid 0)"},
      {link + "/r.json",
       "'" + link + "' on its path is a symbolic link owned by uid 65534"},
  };
  for (const auto& c : cases) {
    const std::string arg = "--gtest_watchdog_report=" + c.value;
    Args args({"prog", arg.c_str()});
    EXPECT_FALSE(Extract(args)) << c.value;
    EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_report: invalid value '" +
                                  c.value + "': " + c.why));
  }
  // A directory of another user is fine (see json_report.cc), and so is a
  // link of theirs in it, as the kernel's protected_symlinks has it...
  const std::string their_link = theirs + "/here";
  ASSERT_EQ(symlink(".", their_link.c_str()), 0);
  ASSERT_EQ(lchown(their_link.c_str(), 65534, 65534), 0) << strerror(errno);
  for (const std::string& fine : {theirs, their_link}) {
    const std::string arg = "--gtest_watchdog_report=" + fine + "/r.json";
    Args args({"prog", arg.c_str()});
    EXPECT_TRUE(Extract(args)) << fine << ": " << error_;
  }
  // ...but not when it is also writable by all without the sticky bit.
  ASSERT_EQ(chmod(theirs.c_str(), 0777), 0);
  const std::string arg = "--gtest_watchdog_report=" + theirs + "/r.json";
  Args args({"prog", arg.c_str()});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("' belongs to uid 65534 and may be changed by "
                                "any user (mode 0777"));
}

TEST_F(ExtractOptionsTest, AllOurFlagsRemovedEvenAfterAnError) {
  Args args({"prog", "--gtest_watchdog_bogus=1", "x",
             "/gtest_watchdog_timeout=5s", "-gtest_watchdog_slow=1", "y",
             "--gtest_watchdog_timeout=banana"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, Not(IsEmpty()));
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "x", "y"));
  EXPECT_EQ(args.argv()[3], nullptr);
}

TEST_F(ExtractOptionsTest, FirstProblemIsReported) {
  Args args({"prog", "--gtest_watchdog_first=1", "--gtest_watchdog_second=2"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, HasSubstr("first"));
  EXPECT_THAT(error_, Not(HasSubstr("second")));
}

TEST_F(ExtractOptionsTest, KeepGoingTakesABool) {
  const std::pair<const char*, bool> cases[] = {
      {"--gtest_watchdog_keep_going", true},
      {"-gtest_watchdog_keep_going", true},
      {"--gtest_watchdog_keep_going=1", true},
      {"--gtest_watchdog_keep_going=true", true},
      {"--gtest_watchdog_keep_going=YES", true},
      // As GoogleTest's own bool flags: "=" with nothing is on.
      {"--gtest_watchdog_keep_going=", true},
      {"--gtest_watchdog_keep_going=0", false},
      {"--gtest_watchdog_keep_going=False", false},
      {"--gtest_watchdog_keep_going=no", false}};
  for (const auto& [flag, want] : cases) {
    SCOPED_TRACE(flag);
    options_ = Options();
    Args args({"prog", flag, "--gtest_filter=A.*"});
    ASSERT_TRUE(Extract(args)) << error_;
    ASSERT_TRUE(options_.keep_going);
    EXPECT_EQ(*options_.keep_going.value, want);
    EXPECT_EQ(options_.keep_going.origin, "--gtest_watchdog_keep_going");
    EXPECT_THAT(args.Remaining(), ElementsAre("prog", "--gtest_filter=A.*"));
  }
}

TEST_F(ExtractOptionsTest, KeepGoingUnsetByDefault) {
  Args args({"prog"});
  ASSERT_TRUE(Extract(args)) << error_;
  EXPECT_FALSE(options_.keep_going);
  EXPECT_FALSE(options_.max_stalls);
}

TEST_F(ExtractOptionsTest, KeepGoingFromTheEnvironmentAndFlagOverIt) {
  FakeEnv()["GTEST_WATCHDOG_KEEP_GOING"] = "yes";
  Args from_env({"prog"});
  ASSERT_TRUE(Extract(from_env)) << error_;
  EXPECT_EQ(options_.keep_going.value, true);
  EXPECT_EQ(options_.keep_going.origin, "GTEST_WATCHDOG_KEEP_GOING");

  options_ = Options();
  Args flag({"prog", "--gtest_watchdog_keep_going=0"});
  ASSERT_TRUE(Extract(flag)) << error_;
  EXPECT_EQ(options_.keep_going.value, false);
  EXPECT_EQ(options_.keep_going.origin, "--gtest_watchdog_keep_going");

  FakeEnv()["GTEST_WATCHDOG_KEEP_GOING"] = "0";
  options_ = Options();
  Args off({"prog"});
  ASSERT_TRUE(Extract(off)) << error_;
  EXPECT_EQ(options_.keep_going.value, false);
}

TEST_F(ExtractOptionsTest, KeepGoingBadValuesNameTheFlagOrVariable) {
  Args args({"prog", "--gtest_watchdog_keep_going=maybe"});
  EXPECT_FALSE(Extract(args));
  EXPECT_EQ(error_,
            "--gtest_watchdog_keep_going: invalid value 'maybe': expected "
            "nothing, 1/0, true/false or yes/no");
  EXPECT_FALSE(options_.keep_going);

  FakeEnv()["GTEST_WATCHDOG_KEEP_GOING"] = "2";
  Args from_env({"prog"});
  EXPECT_FALSE(Extract(from_env));
  EXPECT_THAT(error_,
              ::testing::StartsWith(
                  "GTEST_WATCHDOG_KEEP_GOING: invalid value '2': expected"));

  // An empty variable is refused (unlike "=" on the command line): it is
  // more likely a script's unset value than a wish.
  FakeEnv()["GTEST_WATCHDOG_KEEP_GOING"] = "";
  Args empty({"prog"});
  EXPECT_FALSE(Extract(empty));
  EXPECT_THAT(error_, HasSubstr("GTEST_WATCHDOG_KEEP_GOING: invalid value ''"));
  EXPECT_THAT(error_, HasSubstr("it is empty"));

  // A bad variable is an error even when the flag is given.
  FakeEnv()["GTEST_WATCHDOG_KEEP_GOING"] = "sure";
  Args both({"prog", "--gtest_watchdog_keep_going"});
  EXPECT_FALSE(Extract(both));
  EXPECT_THAT(error_, HasSubstr("GTEST_WATCHDOG_KEEP_GOING"));
  EXPECT_THAT(error_, HasSubstr("'sure'"));
}

TEST_F(ExtractOptionsTest, MaxStallsTakesACount) {
  const std::pair<const char*, int> cases[] = {
      {"--gtest_watchdog_max_stalls=0", 0},
      {"--gtest_watchdog_max_stalls=1", 1},
      {"/gtest_watchdog_max_stalls=10", 10},
      {"--gtest_watchdog_max_stalls=0010", 10},
      {"--gtest_watchdog_max_stalls=1000000", 1000000}};
  for (const auto& [flag, want] : cases) {
    SCOPED_TRACE(flag);
    options_ = Options();
    Args args({"prog", flag});
    ASSERT_TRUE(Extract(args)) << error_;
    EXPECT_EQ(options_.max_stalls.value, want);
    EXPECT_EQ(options_.max_stalls.origin, "--gtest_watchdog_max_stalls");
  }
  FakeEnv()["GTEST_WATCHDOG_MAX_STALLS"] = "3";
  options_ = Options();
  Args from_env({"prog"});
  ASSERT_TRUE(Extract(from_env)) << error_;
  EXPECT_EQ(options_.max_stalls.value, 3);
  EXPECT_EQ(options_.max_stalls.origin, "GTEST_WATCHDOG_MAX_STALLS");
  options_ = Options();
  Args flag_wins({"prog", "--gtest_watchdog_max_stalls=4"});
  ASSERT_TRUE(Extract(flag_wins)) << error_;
  EXPECT_EQ(options_.max_stalls.value, 4);
}

TEST_F(ExtractOptionsTest, MaxStallsRefusesOtherValues) {
  for (const char* value : {"-1", "+5", " 5", "5 ", "5x", "1e3", "1.0",
                            "1000001", "99999999999", "0x10", ""}) {
    SCOPED_TRACE(value);
    Args args(
        {"prog",
         std::string("--gtest_watchdog_max_stalls=").append(value).c_str()});
    EXPECT_FALSE(Extract(args));
    EXPECT_EQ(error_, absl::StrCat("--gtest_watchdog_max_stalls: invalid "
                                   "value '",
                                   value,
                                   "': expected a whole number from 0 to "
                                   "1000000"));
  }
  Args no_value({"prog", "--gtest_watchdog_max_stalls"});
  EXPECT_FALSE(Extract(no_value));
  EXPECT_EQ(error_,
            "--gtest_watchdog_max_stalls needs a value, e.g. "
            "--gtest_watchdog_max_stalls=10");
  FakeEnv()["GTEST_WATCHDOG_MAX_STALLS"] = "many";
  Args from_env({"prog"});
  EXPECT_FALSE(Extract(from_env));
  EXPECT_THAT(error_, ::testing::StartsWith("GTEST_WATCHDOG_MAX_STALLS: "
                                            "invalid value 'many'"));
}

TEST(ParseCountTest, Bounds) {
  int n = -1;
  std::string error;
  EXPECT_TRUE(ParseCount("0", &n, &error));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(ParseCount("1000000", &n, &error));
  EXPECT_EQ(n, 1000000);
  EXPECT_TRUE(ParseCount("0000007", &n, &error));
  EXPECT_EQ(n, 7);
  n = 42;
  for (const char* bad : {"", "-0", "1000001", "9999999", "2147483648",
                          "18446744073709551617", "3 ", "0b1", "\xd9\xa3"}) {
    SCOPED_TRACE(bad);
    error.clear();
    EXPECT_FALSE(ParseCount(bad, &n, &error));
    EXPECT_EQ(error, "expected a whole number from 0 to 1000000");
    EXPECT_EQ(n, 42);
  }
}

TEST(NearestFlagTest, SuggestsTypos) {
  EXPECT_EQ(NearestFlag("keepgoing"), "keep_going");
  EXPECT_EQ(NearestFlag("keep-going"), "keep_going");
  EXPECT_EQ(NearestFlag("keep_goin"), "keep_going");
  EXPECT_EQ(NearestFlag("KEEP_GOING"), "keep_going");
  EXPECT_EQ(NearestFlag("max_stall"), "max_stalls");
  EXPECT_EQ(NearestFlag("maxstalls"), "max_stalls");
  EXPECT_EQ(NearestFlag("timout"), "timeout");
  EXPECT_EQ(NearestFlag("timeuot"), "timeout");
  EXPECT_EQ(NearestFlag("list_timeout"), "list_timeouts");
  EXPECT_EQ(NearestFlag("suite-timeout"), "suite_timeout");
  EXPECT_EQ(NearestFlag("sigals"), "signals");
  EXPECT_EQ(NearestFlag("slow"), "slow");
}

TEST(NearestFlagTest, NothingWhenNoneIsNear) {
  EXPECT_EQ(NearestFlag(""), "");
  EXPECT_EQ(NearestFlag("bogus"), "");
  EXPECT_EQ(NearestFlag("first"), "");
  EXPECT_EQ(NearestFlag("total"), "");
  EXPECT_EQ(NearestFlag("stall_limit"), "");
  EXPECT_EQ(NearestFlag("zzzzzzzzzzzzzzzzzzzzzzzz"), "");
}

TEST(NearestFlagTest, SuggestsOnlyFlagsThatExist) {
  const std::vector<std::string> names = FlagNames();
  for (const char* typo : {"keepgoing", "max_stall", "timout", "scal", "sloww",
                           "reprot", "confg", "environment_timout"}) {
    SCOPED_TRACE(typo);
    const std::string nearest = NearestFlag(typo);
    EXPECT_NE(nearest, "");
    EXPECT_THAT(names, ::testing::Contains(nearest));
  }
}

TEST_F(ExtractOptionsTest, UnknownFlagSuggestsTheNearest) {
  Args args({"prog", "--gtest_watchdog_keepgoing", "--gtest_filter=A.*"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, ::testing::StartsWith(
                          "unknown flag '--gtest_watchdog_keepgoing'; did you "
                          "mean --gtest_watchdog_keep_going? The flags are "
                          "--gtest_watchdog_timeout, "));
  EXPECT_THAT(error_, HasSubstr("--gtest_watchdog_max_stalls"));
  EXPECT_THAT(args.Remaining(), ElementsAre("prog", "--gtest_filter=A.*"));

  // The name before '=' is compared.
  Args valued({"prog", "-gtest_watchdog_max_stall=3"});
  EXPECT_FALSE(Extract(valued));
  EXPECT_THAT(error_, ::testing::StartsWith(
                          "unknown flag '-gtest_watchdog_max_stall=3'; did "
                          "you mean --gtest_watchdog_max_stalls? The flags"));
}

TEST_F(ExtractOptionsTest, UnknownFlagWithoutSuggestionListsTheFlags) {
  // As docs/flags.md shows it.
  Args args({"prog", "--gtest_watchdog_bogus=1"});
  EXPECT_FALSE(Extract(args));
  EXPECT_THAT(error_, ::testing::StartsWith(
                          "unknown flag '--gtest_watchdog_bogus=1'; the flags "
                          "are --gtest_watchdog_timeout, "));
  EXPECT_THAT(error_, Not(HasSubstr("did you mean")));
  std::string list;
  for (const std::string& name : FlagNames()) {
    list += (list.empty() ? "" : ", ") + ("--gtest_watchdog_" + name);
  }
  EXPECT_THAT(error_, ::testing::EndsWith(list));
}

// --help's text (FlagHelp), from the descriptions beside the flag table.
class OptionsHelpTest : public ExtractOptionsTest {};

TEST_F(OptionsHelpTest, EveryFlagHasAValueFormAndAMeaning) {
  const std::vector<FlagHelpEntry> entries = FlagHelpEntries();
  std::vector<std::string> names;
  for (const FlagHelpEntry& e : entries) names.push_back(e.name);
  EXPECT_THAT(names, ElementsAreArray(FlagNames()));
  for (const FlagHelpEntry& e : entries) {
    SCOPED_TRACE(e.name);
    EXPECT_GE(e.meaning.size(), 20u);
    EXPECT_EQ(e.meaning.back(), '.');
    EXPECT_EQ(e.meaning.find('\n'), std::string::npos);
    // The form shown says whether the flag needs a value: "=X" exactly
    // when the parser refuses it bare.
    const std::string flag = "--gtest_watchdog_" + e.name;
    Args args({"prog", flag.c_str()});
    const bool bare_ok = Extract(args);
    if (e.value.empty() || e.value[0] == '[') {
      EXPECT_TRUE(bare_ok) << error_;
    } else {
      EXPECT_EQ(e.value[0], '=');
      EXPECT_GE(e.value.size(), 2u);
      EXPECT_FALSE(bare_ok);
      EXPECT_THAT(error_, HasSubstr("needs a value"));
    }
  }
}

TEST_F(OptionsHelpTest, ListsEveryFlagInOrderWithItsVariableAndMeaning) {
  const std::string help = FlagHelp(/*color=*/false);
  size_t last = 0;
  for (const FlagHelpEntry& e : FlagHelpEntries()) {
    SCOPED_TRACE(e.name);
    const size_t at = help.find("  --gtest_watchdog_" + e.name + e.value);
    ASSERT_NE(at, std::string::npos) << help;
    EXPECT_GT(at, last);
    last = at;
    const std::string var = absl::AsciiStrToUpper("GTEST_WATCHDOG_" + e.name);
    const size_t var_at = help.find("(" + var + ")\n      " + e.meaning, at);
    ASSERT_NE(var_at, std::string::npos) << help;
    // The variable is beside the flag, or on the next line when the two do
    // not fit in 80 columns.
    const std::string flag_line = "  --gtest_watchdog_" + e.name + e.value;
    EXPECT_THAT(help.substr(at, var_at - at),
                testing::AnyOf(flag_line + "  ", flag_line + "\n      "));
  }
  EXPECT_THAT(help, HasSubstr("docs/flags.md"));
  EXPECT_THAT(help, HasSubstr("https://github.com/gtest-watchdog/"));
  EXPECT_THAT(help, Not(HasSubstr("\033")));
}

TEST_F(OptionsHelpTest, FitsInEightyColumnsLikeGoogleTestsHelp) {
  const std::string help = FlagHelp(/*color=*/false);
  size_t start = 0;
  while (start < help.size()) {
    const size_t end = help.find('\n', start);
    ASSERT_NE(end, std::string::npos) << "the text ends with a line break";
    EXPECT_LE(end - start, 80u) << help.substr(start, end - start);
    start = end + 1;
  }
}

TEST_F(OptionsHelpTest, ColoursFlagsAndValuesAsGoogleTestDoes) {
  const std::string plain = FlagHelp(/*color=*/false);
  const std::string color = FlagHelp(/*color=*/true);
  // GoogleTest's ColoredPrintf: green flags, yellow values, each reset.
  EXPECT_THAT(color, HasSubstr("  \033[0;32m--gtest_watchdog_timeout\033[m"
                               "\033[0;33m=DURATION\033[m  "
                               "(\033[0;32mGTEST_WATCHDOG_TIMEOUT\033[m)\n"));
  // No empty coloured piece for a flag that shows no value.
  EXPECT_THAT(color, Not(HasSubstr("\033[0;33m\033[m")));
  // Without the escapes, the same text.
  std::string stripped;
  for (size_t i = 0; i < color.size(); ++i) {
    if (color[i] == '\033') {
      i = color.find('m', i);
      ASSERT_NE(i, std::string::npos);
      continue;
    }
    stripped += color[i];
  }
  EXPECT_EQ(stripped, plain);
}

TEST(SourceNameTest, NamesEverySource) {
  EXPECT_STREQ(SourceName(Source::kBuiltIn), "built-in default");
  EXPECT_STREQ(SourceName(Source::kEnvironment), "environment");
  EXPECT_STREQ(SourceName(Source::kFlag), "flag");
}

}  // namespace
}  // namespace gtest_watchdog_internal
