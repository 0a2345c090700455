// The verdict where CI shows failures: runs tests/programs/
// failure_message_program's hangs and crashes with --gtest_output=xml or
// json, and reads the file with check_gtest_output.py (a real XML / JSON
// parse). The failure's summary — XML's `message` attribute, what Jenkins,
// GitLab and GitHub's test reporters show; in JSON the failure's text
// before "Stack trace:" — must have the verdict on the line right after the
// headline, the same line as on stderr, escaped (the test thread's name
// holds <, &, a quote and an escape sequence). Also when the report helper
// cannot start (FMP_NO_EXEC=1): then the stall path's own verdict.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr SourceMarkers Where(FAILURE_MESSAGE_SOURCE);
constexpr char kVerdictTag[] = "[ VERDICT  ] ";
// The test thread's name as every report shows it: the escape sequence
// escaped; <, & and the quote are the XML writer's to escape.
constexpr char kNameShown[] = "\"r<&\"\\x1b[1m\"";

// A fresh directory per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = fs::temp_directory_path() / "failure_message.XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

// The verdict on stderr, without its tag: the line after the line that
// starts with `headline_tag`. "" (and a failure) if it is not there.
std::string StderrVerdict(const std::string& err,
                          const std::string& headline_tag) {
  const std::vector<std::string> lines = Lines(err);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].rfind(kVerdictTag, 0) == 0 &&
        lines[i - 1].rfind(headline_tag, 0) == 0) {
      return lines[i].substr(sizeof(kVerdictTag) - 1);
    }
  }
  ADD_FAILURE() << "no verdict after a " << headline_tag << " line:\n" << err;
  return "";
}

// FailureMessage.`test` with the output in `format` (xml or json) at
// `file`, limit 1 s unless `args` say otherwise.
ChildResult RunProgram(
    const std::string& test, const std::string& format, const std::string& file,
    std::vector<std::string> args = {"--gtest_watchdog_timeout=1s"},
    const std::vector<std::string>& env = {}) {
  args.insert(args.begin(),
              {FAILURE_MESSAGE_PROGRAM, "--gtest_filter=FailureMessage." + test,
               "--gtest_output=" + format + ":" + file});
  return RunChild(args, env);
}

// The file has FailureMessage.`test` failed, its headline starting with
// `headline`, and the verdict line right after it holding each of
// `verdict` (in XML's message attribute and text, in JSON's text).
void ExpectFile(const std::string& file, const std::string& test,
                const std::string& headline,
                const std::vector<std::string>& verdict) {
  const std::string name = "FailureMessage." + test;
  std::vector<std::string> argv = {PYTHON3, CHECK_GTEST_OUTPUT, file,
                                   name + "=failed:" + headline};
  for (const std::string& text : verdict) {
    argv.push_back(name + "=verdict:" + text);
  }
  const ChildResult c = RunChild(argv);
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_THAT(c.out, HasSubstr("OK\n")) << c.out << c.err;
}

void ExpectAborted(const ChildResult& r) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 1 + kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
}

class FailureMessage : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  }
  std::string format() const { return GetParam(); }
  std::string file() const { return dir_ / ("out." + format()); }

  // Runs `test` with exec denied: the helper cannot start. False (the test
  // skipped) where a seccomp filter cannot be set.
  bool RunWithoutTheHelper(const std::string& test, ChildResult* r) {
    *r = RunProgram(test, format(), file(), {"--gtest_watchdog_timeout=1s"},
                    {"FMP_NO_EXEC=1"});
    if (r->err.find("failure_message_program: exec denied") ==
        std::string::npos) {
      return false;
    }
    EXPECT_THAT(r->err, HasSubstr("[ WATCHDOG ] could not symbolize (report "
                                  "helper failed)"));
    return true;
  }

  TempDir dir_;
};

// The blocked read's verdict, word for word as on stderr, with the test
// thread's name escaped, is the summary's second line.
TEST_P(FailureMessage, BlockedReadFromAPipe) {
  const ChildResult r = RunProgram("PipeRead", format(), file());
  ExpectAborted(r);
  const std::string verdict = StderrVerdict(r.err, "[ TIMEOUT  ] ");
  EXPECT_THAT(verdict, StartsWith(std::string("blocked: thread ")));
  EXPECT_THAT(verdict, HasSubstr(kNameShown));
  EXPECT_THAT(verdict, HasSubstr(" waits in read() on fd "));
  EXPECT_THAT(verdict, HasSubstr(Where("pipe")));
  ExpectFile(file(), "PipeRead",
             "gtest_watchdog: FailureMessage.PipeRead: ", {verdict});
}

TEST_P(FailureMessage, Deadlock) {
  const ChildResult r = RunProgram("Deadlock", format(), file());
  ExpectAborted(r);
  const std::string verdict = StderrVerdict(r.err, "[ TIMEOUT  ] ");
  EXPECT_THAT(verdict, StartsWith("deadlock: thread "));
  EXPECT_THAT(verdict, HasSubstr("\"first\""));
  EXPECT_THAT(verdict, HasSubstr("\"second\""));
  EXPECT_THAT(verdict, HasSubstr(Where("deadlock")));
  ExpectFile(file(), "Deadlock",
             "gtest_watchdog: FailureMessage.Deadlock: ", {verdict});
}

// The crash's headline names the signal; the verdict says which thread
// and where (stderr says it on its [ CRASHED  ] line instead).
TEST_P(FailureMessage, CrashOnAWorker) {
  const ChildResult r = RunProgram("CrashOnAWorker", format(), file());
  ExpectCrashEndedBy(r, SIGSEGV, kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ CRASHED  ] thread "));
  ExpectFile(file(), "CrashOnAWorker",
             "gtest_watchdog: FailureMessage.CrashOnAWorker: ",
             {"crash: thread ",
              "\"crasher\" got SIGSEGV in (anonymous "
              "namespace)::WriteThroughNull() at " +
                  Where("crash")});
}

// A signal report (SIGQUIT from an outer runner): the verdict says what
// the test thread was doing when it came.
TEST_P(FailureMessage, ReadInterruptedBySigquit) {
  if (kTsan) {
    // Its runtime holds a thread-directed signal sent from inside the
    // process while the thread sits in read(); the harness's own SIGQUIT
    // (Verdict.SignalFromOutsideStillNamesTheInterruptedCall) is covered.
    GTEST_SKIP() << "ThreadSanitizer defers the tgkill'd SIGQUIT";
  }
  const ChildResult r = RunProgram("ReadUntilSignalled", format(), file(), {});
  ExpectCrashEndedBy(r, SIGQUIT, 60 + kSlack);
  const std::string verdict = StderrVerdict(r.err, "[ SIGNAL   ] ");
  EXPECT_THAT(verdict, HasSubstr("was waiting, when SIGQUIT came, in read() "
                                 "on fd "));
  ExpectFile(file(), "ReadUntilSignalled",
             "gtest_watchdog: FailureMessage.ReadUntilSignalled: ", {verdict});
}

// The whole run's limit: the headline names it and what runs now.
TEST_P(FailureMessage, TotalTimeout) {
  const ChildResult r = RunProgram(
      "PipeRead", format(), file(),
      {"--gtest_watchdog_timeout=60s", "--gtest_watchdog_total_timeout=1s"});
  ExpectAborted(r);
  const std::string verdict = StderrVerdict(r.err, "[ TIMEOUT  ] ");
  EXPECT_THAT(verdict, HasSubstr(" waits in read() on fd "));
  ExpectFile(file(), "PipeRead",
             "gtest_watchdog: the whole test run still running after 1.",
             {verdict});
}

// Without the helper: no verdict is decided, and the verdict line says so
// with what the kernel showed of the test thread — the same line on stderr
// and in the file.
TEST_P(FailureMessage, BlockedReadWithoutTheHelper) {
  ChildResult r;
  if (!RunWithoutTheHelper("PipeRead", &r)) {
    GTEST_SKIP() << "no seccomp filter here:\n" << r.err;
  }
  ExpectAborted(r);
  const std::string verdict = StderrVerdict(r.err, "[ TIMEOUT  ] ");
  EXPECT_THAT(verdict, StartsWith("not decided: the report helper failed"));
  EXPECT_THAT(verdict, HasSubstr(std::string("; thread ")));
  EXPECT_THAT(verdict, HasSubstr(std::string(kNameShown) +
                                 ", which runs the test, is sleeping in "
                                 "read() on fd "));
  EXPECT_THAT(verdict, HasSubstr(" (pipe:["));
  EXPECT_THAT(verdict, HasSubstr("% of a CPU and woke up "));
  ExpectFile(file(), "PipeRead",
             "[ TIMEOUT  ] FailureMessage.PipeRead: test still running after "
             "1.",
             {verdict});
}

// Without the helper a crash is still its own verdict: the thread, the
// signal and the address, which addr2line resolves to the crashing line.
TEST_P(FailureMessage, CrashWithoutTheHelper) {
  ChildResult r;
  if (!RunWithoutTheHelper("CrashOnAWorker", &r)) {
    GTEST_SKIP() << "no seccomp filter here:\n" << r.err;
  }
  ExpectCrashEndedBy(r, SIGSEGV, kSlack);
  const std::string verdict = StderrVerdict(r.err, "[ CRASH    ] ");
  EXPECT_THAT(verdict, HasSubstr("\"crasher\" got SIGSEGV at 0x"));
  ExpectFile(file(), "CrashOnAWorker",
             "[ CRASH    ] FailureMessage.CrashOnAWorker: test: SIGSEGV",
             {verdict});
  // "... at 0xPC (MODULE 0xADDR) (not symbolized: ...)".
  const size_t open = verdict.find(" (/");
  const size_t close = verdict.find(") (not symbolized");
  ASSERT_NE(open, std::string::npos) << verdict;
  ASSERT_NE(close, std::string::npos) << verdict;
  const std::string where = verdict.substr(open + 2, close - open - 2);
  const size_t space = where.rfind(' ');
  ASSERT_NE(space, std::string::npos) << where;
  const ChildResult resolved =
      RunChild({"/usr/bin/addr2line", "-f", "-C", "-e", where.substr(0, space),
                where.substr(space + 1)});
  EXPECT_THAT(resolved.out, HasSubstr("WriteThroughNull()")) << where;
}

INSTANTIATE_TEST_SUITE_P(Formats, FailureMessage,
                         testing::Values("xml", "json"));

}  // namespace
}  // namespace gtest_watchdog_test
