// --gtest_output=xml/json on a stall: runs tests/programs/gtest_output_program
// and reads the file it leaves with check_gtest_output.py (a real XML / JSON
// parse, Python's standard library).
//
// GtestOutput.*, GtestOutputDirect.*, GtestOutputPhase.*: the program calls
// WriteGtestOutputAfterStall itself, from a second thread, while its test
// thread is blocked (GTO_DIRECT=1); the stall path is not involved.
// GtestOutputOnStall.*: a real stall, the watchdog writes the file. These
// need the stall path to call PrepareGtestOutput / WriteGtestOutputAfterStall.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/gtest_output/gtest_internals.h"

namespace gtest_watchdog_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// What the program's direct call passes (see gtest_output_program.cc): the
// headline goes into XML's `message` attribute, the frame only into the text.
constexpr char kDirectHeadline[] =
    "[ TIMEOUT  ] direct call <stalled> & \"quoted\" ]]> end";
constexpr char kDirectFrame[] = "#0 BlockForever() gtest_output_program.cc";

// A fresh directory (canonical path) per test, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = fs::temp_directory_path() / "gtest_output.XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = fs::canonical(pattern);
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
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The program with GTO_STALL_AT=`stall_at`, writing the file itself.
ChildResult RunDirect(const std::string& output, const std::string& stall_at,
                      const std::vector<std::string>& extra_args = {},
                      std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {GTEST_OUTPUT_PROGRAM};
  if (!output.empty()) argv.push_back("--gtest_output=" + output);
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  env.push_back("GTO_DIRECT=1");
  env.push_back("GTO_STALL_AT=" + stall_at);
  return RunChild(argv, env);
}

void ExpectWrote(const ChildResult& r, const std::string& path) {
  EXPECT_FALSE(r.signaled) << "signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("gtest_output_program: wrote " + path + "\n"));
  // GoogleTest's console printer is detached first: the stalled test's
  // failure is not printed (the report on stderr says it all).
  EXPECT_THAT(r.out, Not(HasSubstr("direct call")));
}

// The tests that run before the stall, as the file must show them.
std::vector<std::string> Before(const char* state = nullptr) {
  if (state != nullptr) {
    return {std::string("Before.Passes=") + state,
            std::string("Before.Fails=") + state,
            std::string("Before.Skips=") + state,
            std::string("Before.ChangesDirectory=") + state};
  }
  return {"Before.Passes=passed", "Before.Fails=failed:an ordinary failure",
          "Before.Skips=skipped", "Before.ChangesDirectory=passed"};
}

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The file after a stall in Hang.Blocks failed with `text`.
std::vector<std::string> StalledInTest(const std::string& text) {
  return Concat(
      Before(),
      {"Hang.Blocks=failed:" + text, "Hang.AfterInTheSameSuite=notrun",
       "Phase.First=notrun", "Phase.Second=notrun", "After.NeverReached=notrun",
       "After.NeverReachedEither=notrun", "After.DISABLED_Disabled=notrun"});
}

class GtestOutput : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  }
  std::string format() const { return GetParam(); }
};

TEST_P(GtestOutput, KeepsEarlierResultsAndFailsTheStalledTest) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const ChildResult r = RunDirect(format() + ":" + file, "test");
  ExpectWrote(r, file);
  EXPECT_THAT(r.out, HasSubstr("[ RUN      ] Hang.Blocks"));
  ExpectGtestOutput(
      file, Concat(StalledInTest(kDirectHeadline),
                   {std::string("Hang.Blocks=detail:") + kDirectFrame,
                    std::string("Hang.Blocks=nosummary:") + kDirectFrame,
                    // The program waits 300 ms before writing.
                    "Hang.Blocks=time>=0.25"}));
}

// GoogleTest resolves a relative path against the directory the program
// started in, when InitGoogleTest runs; Before.ChangesDirectory then moves
// to "/".
TEST_P(GtestOutput, RelativePathStaysWhereTheProgramStarted) {
  TempDir dir;
  const fs::path here = fs::current_path();
  fs::current_path(dir.path());
  const ChildResult r = RunDirect(format() + ":sub/out." + format(), "test");
  fs::current_path(here);
  const std::string file = dir / ("sub/out." + format());
  ExpectWrote(r, file);
  ExpectGtestOutput(file, StalledInTest(kDirectHeadline));
}

// "xml:DIR/" makes GoogleTest pick the first free PROGRAM[_N].xml in DIR;
// the path reported is the one it wrote.
TEST_P(GtestOutput, DirectoryGetsTheFileNameGoogleTestChose) {
  TempDir dir;
  fs::create_directories(dir.path() / "results");
  std::ofstream(dir / ("results/gtest_output_program." + format())) << "old";
  const std::string file = dir / ("results/gtest_output_program_1." + format());
  const ChildResult r = RunDirect(format() + ":" + (dir / "results/"), "test");
  ExpectWrote(r, file);
  ExpectGtestOutput(file, StalledInTest(kDirectHeadline));
}

// Failing the stalled test must neither throw on the watchdog thread nor
// trap. (Before.Fails would throw or trap in the test itself: left out.)
TEST_P(GtestOutput, ThrowAndBreakOnFailureAreIgnored) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const ChildResult r =
      RunDirect(format() + ":" + file, "test",
                {"--gtest_throw_on_failure", "--gtest_break_on_failure",
                 "--gtest_filter=-Before.Fails"});
  ExpectWrote(r, file);
  ExpectGtestOutput(
      file,
      {"Before.Passes=passed", "Before.Skips=skipped",
       "Before.ChangesDirectory=passed",
       std::string("Hang.Blocks=failed:") + kDirectHeadline,
       "Hang.AfterInTheSameSuite=notrun", "Phase.First=notrun",
       "Phase.Second=notrun", "After.NeverReached=notrun",
       "After.NeverReachedEither=notrun", "After.DISABLED_Disabled=notrun"});
}

// The iteration that stalls is written: tests that ran in the first one
// (GoogleTest keeps their start times) are "not run" in the second.
TEST_P(GtestOutput, RepeatWritesTheIterationThatStalled) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const ChildResult r = RunDirect(format() + ":" + file, "test",
                                  {"--gtest_repeat=2"}, {"GTO_STALL_RUN=2"});
  ExpectWrote(r, file);
  EXPECT_THAT(r.out, HasSubstr("[       OK ] After.NeverReachedEither"));
  ExpectGtestOutput(file, StalledInTest(kDirectHeadline));
}

INSTANTIATE_TEST_SUITE_P(Formats, GtestOutput, testing::Values("xml", "json"));

TEST(GtestOutputDirect, WithoutGtestOutputNothingIsWritten) {
  const ChildResult r = RunDirect("", "test");
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("gtest_output_program: wrote nothing"));
}

// GoogleTest aborts if it cannot open the file; we find out first.
TEST(GtestOutputDirect, UncreatableFileIsNotFatal) {
  const ChildResult r =
      RunDirect("xml:/proc/gtest_output_test/out.xml", "test");
  EXPECT_FALSE(r.signaled) << "signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("gtest_output_program: wrote nothing"));
}

// --- stalls outside a test: GoogleTest's current result is the suite's or
// the program's; both appear as the "NonTestSuiteFailure" suite. ---

struct PhaseCase {
  const char* name;
  const char* stall_at;               // GTO_STALL_AT
  std::vector<std::string> expected;  // besides the stall's failure
  const char* suite = nullptr;        // the suite whose phase stalls
};

// Where the file shows a failure of `suite`'s own (null: the program's): a
// test case "" of the suite from GoogleTest 1.16 on, the NonTestSuiteFailure
// suite before (gtest_internals.h).
std::string FailureCase(const char* suite) {
  return suite != nullptr && gtest_watchdog_internal::gtest_internals::
                                 SuiteFailuresInOutput()
             ? std::string(suite) + "."
             : "NonTestSuiteFailure.";
}

// Test names stay the same from one test discovery to the next.
void PrintTo(const PhaseCase& c, std::ostream* os) { *os << c.name; }

std::vector<std::string> Ran(std::vector<std::string> names) {
  for (std::string& n : names) n += "=passed";
  return names;
}
std::vector<std::string> NotRun(std::vector<std::string> names) {
  for (std::string& n : names) n += "=notrun";
  return names;
}

const std::vector<std::string> kHang = {"Hang.Blocks",
                                        "Hang.AfterInTheSameSuite"};
const std::vector<std::string> kPhase = {"Phase.First", "Phase.Second"};
const std::vector<std::string> kAfter = {"After.NeverReached",
                                         "After.NeverReachedEither"};
const std::vector<std::string> kDisabled = {"After.DISABLED_Disabled=notrun"};

class GtestOutputPhase
    : public testing::TestWithParam<std::tuple<PhaseCase, std::string>> {
 protected:
  void SetUp() override {
    if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  }
};

TEST_P(GtestOutputPhase, FailureIsWrittenAndLaterTestsAreNotRun) {
  const PhaseCase& c = std::get<0>(GetParam());
  const std::string format = std::get<1>(GetParam());
  TempDir dir;
  const std::string file = dir / ("out." + format);
  const ChildResult r = RunDirect(format + ":" + file, c.stall_at);
  ExpectWrote(r, file);
  ExpectGtestOutput(
      file,
      Concat(c.expected, {FailureCase(c.suite) + "=failed:" + kDirectHeadline,
                          FailureCase(c.suite) + "=detail:" + kDirectFrame}));
}

INSTANTIATE_TEST_SUITE_P(
    AllPhases, GtestOutputPhase,
    testing::Combine(
        testing::Values(
            PhaseCase{"SetUpTestSuite", "suite_setup",
                      Concat(Concat(Before(), Ran(kHang)),
                             Concat(Concat(NotRun(kPhase), NotRun(kAfter)),
                                    kDisabled)),
                      "Phase"},
            PhaseCase{
                "TearDownTestSuite", "suite_teardown",
                Concat(Concat(Before(), Ran(kHang)),
                       Concat(Concat(Ran(kPhase), NotRun(kAfter)), kDisabled)),
                "Phase"},
            PhaseCase{"EnvironmentSetUp", "env_setup",
                      Concat(Concat(Before("notrun"), NotRun(kHang)),
                             Concat(Concat(NotRun(kPhase), NotRun(kAfter)),
                                    kDisabled))},
            PhaseCase{
                "EnvironmentTearDown", "env_teardown",
                Concat(Concat(Before(), Ran(kHang)),
                       Concat(Concat(Ran(kPhase), Ran(kAfter)), kDisabled))}),
        testing::Values(std::string("xml"), std::string("json"))),
    [](const testing::TestParamInfo<std::tuple<PhaseCase, std::string>>& p) {
      return std::string(std::get<0>(p.param).name) + "_" +
             std::get<1>(p.param);
    });

// --- end to end: a real stall, the watchdog writes the file. Needs the
// stall path wired to PrepareGtestOutput / WriteGtestOutputAfterStall. ---

ChildResult RunStalled(const std::string& output, const std::string& stall_at) {
  return RunChild({GTEST_OUTPUT_PROGRAM, "--gtest_watchdog_timeout=1s",
                   "--gtest_output=" + output},
                  {"GTO_STALL_AT=" + stall_at});
}

void ExpectAborted(const ChildResult& r) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_LT(r.seconds, 21.0);
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
}

class GtestOutputOnStall : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  }
  std::string format() const { return GetParam(); }
};

TEST_P(GtestOutputOnStall, StalledTestFailsWithTheReport) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const ChildResult r = RunStalled(format() + ":" + file, "test");
  ExpectAborted(r);
  // The verdict is the summary's line after the headline (in XML: the
  // message attribute CI dashboards show).
  ExpectGtestOutput(
      file, Concat(StalledInTest("Hang.Blocks: test body still running"),
                   {"Hang.Blocks=detail:BlockForever",
                    "Hang.Blocks=verdict:", "Hang.Blocks=time>=0.9"}));
}

TEST_P(GtestOutputOnStall, StalledTearDownTestSuiteIsWritten) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const ChildResult r = RunStalled(format() + ":" + file, "suite_teardown");
  ExpectAborted(r);
  ExpectGtestOutput(
      file,
      Concat(Concat(Concat(Before(), Ran(kHang)),
                    Concat(Concat(Ran(kPhase), NotRun(kAfter)), kDisabled)),
             {FailureCase("Phase") +
              "=failed:Phase: TearDownTestSuite() still running"}));
}

INSTANTIATE_TEST_SUITE_P(Formats, GtestOutputOnStall,
                         testing::Values("xml", "json"));

// --- a fault inside GoogleTest's own generator (GTO_GENERATOR_FAULT): the
// file is never left empty, half-written or stale. ---

ChildResult RunWithGeneratorFault(const std::string& output,
                                  const std::string& fault) {
  return RunChild({GTEST_OUTPUT_PROGRAM, "--gtest_watchdog_timeout=1s",
                   "--gtest_output=" + output},
                  {"GTO_STALL_AT=test", "GTO_GENERATOR_FAULT=" + fault}, 90);
}

// A file from an earlier run, a day old: what CI must never read as this
// run's results.
void PlantStaleFile(const std::string& file) {
  std::ofstream(file) << "results of an earlier run\n";
  const auto day_ago = fs::last_write_time(file) - std::chrono::hours(24);
  fs::last_write_time(file, day_ago);
}

// The minimal file: valid, the stalled test failed with the headline, and
// nothing else (no earlier test's result is in it).
void ExpectMinimalFile(const std::string& file) {
  ExpectGtestOutput(
      file, {"Hang.Blocks=failed:Hang.Blocks: test body still running",
             "Hang.Blocks=detail:BlockForever", "Hang.Blocks=verdict:"});
}

// Nothing of ours is left beside the output (the minimal file's own name).
void ExpectNoLeftovers(const TempDir& dir, const std::string& file) {
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string(), file) << "left behind";
  }
}

void ExpectWholeReport(const ChildResult& r) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Hang.Blocks: test body"));
  EXPECT_THAT(r.err, HasSubstr("[ VERDICT  ] "));
  EXPECT_THAT(r.err, HasSubstr("BlockForever"));
  EXPECT_THAT(r.err, Not(HasSubstr("report is incomplete")));
  EXPECT_THAT(r.err, Not(HasSubstr("written, with the stalled test failed")));
}

class GtestOutputGeneratorFault : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  }
  std::string format() const { return GetParam(); }
};

// Runs the stalling test with `fault` in the generator, starting from an
// earlier run's file: the whole report, the end by `signo` within
// `within_s`, the rescue's line naming `cause`, and the minimal file alone.
void ExpectRescued(const std::string& format, const std::string& fault,
                   int signo, double within_s, const std::string& cause) {
  TempDir dir;
  const std::string file = dir / ("out." + format);
  PlantStaleFile(file);
  const ChildResult r = RunWithGeneratorFault(format + ":" + file, fault);
  ExpectWholeReport(r);
  EXPECT_TRUE(r.signaled) << r.err;
  EXPECT_EQ(r.signal, signo) << r.err;
  EXPECT_LT(r.seconds, within_s);
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + file +
                               ": GoogleTest's output generator " + cause +
                               "; a minimal file with only this failure is "
                               "there instead"));
  ExpectMinimalFile(file);
  ExpectNoLeftovers(dir, file);
}

// The generator crashes half-way through writing: the rescue in the fault
// handler renames the minimal file over what it left; the process then dies
// by the fault's signal, as any crash of the watchdog's own thread does.
TEST_P(GtestOutputGeneratorFault, CrashLeavesTheMinimalFile) {
  ExpectRescued(format(), "segv", SIGSEGV, 21.0, "received SIGSEGV");
}

// abort() inside the generator (GoogleTest's fatal log, operator new without
// exceptions): SIGABRT is at its default action on the stall path, so a
// handler set just for the generator rescues first.
TEST_P(GtestOutputGeneratorFault, AbortLeavesTheMinimalFile) {
  ExpectRescued(format(), "abort", SIGABRT, 21.0, "received SIGABRT");
}

// Write errors (a full disk) are ignored by GoogleTest's generator: the file
// it leaves is incomplete, and the minimal file replaces it.
TEST_P(GtestOutputGeneratorFault, FailedWritesLeaveTheMinimalFile) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  PlantStaleFile(file);
  const ChildResult r = RunWithGeneratorFault(format() + ":" + file, "enospc");
  ExpectWholeReport(r);
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + file +
                               ": GoogleTest's output generator left an "
                               "incomplete file ("));
  EXPECT_THAT(r.err, HasSubstr("; a minimal file with only the stalled "
                               "test's failure is there instead"));
  ExpectMinimalFile(file);
  ExpectNoLeftovers(dir, file);
}

INSTANTIATE_TEST_SUITE_P(Formats, GtestOutputGeneratorFault,
                         testing::Values("xml", "json"));

// The generator hangs: the dead-man ends the process (30 s) and its rescue
// leaves the minimal file. One format: the wait is long.
TEST(GtestOutputGeneratorHang, DeadManLeavesTheMinimalFile) {
  if (!HavePython()) GTEST_SKIP() << "no python3 to read the file";
  ExpectRescued("xml", "hang", SIGABRT, 60.0, "did not finish within 30.00 s");
}

// Nothing can be created beside the output (a name at the file system's
// limit leaves no room for the minimal file's): not written, and the
// earlier run's file is removed rather than left to be read as this run's.
TEST(GtestOutputNotWritten, StaleFileIsRemoved) {
  TempDir dir;
  const std::string file = dir / (std::string(240, 'x') + ".xml");
  PlantStaleFile(file);
  const ChildResult r = RunStalled("xml:" + file, "test");
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("[ WATCHDOG ] not writing GoogleTest's output "
                               "file " +
                               file + ": cannot create "));
  EXPECT_THAT(r.err, HasSubstr("; the older file there, from before this "
                               "run, was removed"));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_THAT(r.err, Not(HasSubstr("[ OUTPUT   ]")));
}

// A file this run wrote is never taken for a stale one.
TEST(GtestOutputNotWritten, FreshFileIsKept) {
  TempDir dir;
  const std::string file = dir / "out.xml";
  const ChildResult r = RunStalled("xml:" + file, "test");
  ExpectAborted(r);
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + file +
                               " written, with the stalled test failed"));
  EXPECT_TRUE(fs::exists(file));
  ExpectNoLeftovers(dir, file);
}

// The output path is not ours: whatever sits there that is not a regular
// file is left alone, and the report and abort go on as usual.
class GtestOutputNotARegularFile : public testing::TestWithParam<const char*> {
 protected:
  std::string format() const { return GetParam(); }
};

// Opened without O_NONBLOCK, a FIFO nobody reads blocked the stall path
// until the dead-man fired (30 s).
TEST_P(GtestOutputNotARegularFile, FifoIsSkippedPromptly) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);
  const ChildResult r = RunStalled(format() + ":" + file, "test");
  ExpectAborted(r);
  EXPECT_LT(r.seconds, 20.0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("did not finish"))) << r.err;
  EXPECT_THAT(r.err, HasSubstr("[ WATCHDOG ] not writing GoogleTest's output "
                               "file " +
                               file + ": "))
      << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("[ OUTPUT   ]"))) << r.err;
}

// Followed, a dangling link made the output land in its target.
TEST_P(GtestOutputNotARegularFile, DanglingSymlinkTargetIsNotCreated) {
  TempDir dir;
  const std::string file = dir / ("out." + format());
  const std::string target = dir / "target";
  ASSERT_EQ(symlink(target.c_str(), file.c_str()), 0);
  const ChildResult r = RunStalled(format() + ":" + file, "test");
  ExpectAborted(r);
  struct stat st;
  EXPECT_NE(lstat(target.c_str(), &st), 0) << "the link's target was created";
  EXPECT_THAT(r.err,
              HasSubstr("output file " + file + ": it is a symbolic link"))
      << r.err;
}

INSTANTIATE_TEST_SUITE_P(Formats, GtestOutputNotARegularFile,
                         testing::Values("xml", "json"));

}  // namespace
}  // namespace gtest_watchdog_test
