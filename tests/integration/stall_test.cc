// Runs tests/programs/stall_program scenarios as child processes and checks
// the watchdog's report: the headline (test, phase, limit, elapsed), the
// stuck functions with file:line, death by SIGABRT, and prompt timing.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// ThreadSanitizer's runtime never runs an asynchronous signal handler in a
// thread blocked in pthread_mutex_lock, so such threads cannot unwind
// themselves there (kTsan): the report lists them with their kernel state
// only.
constexpr char kNoAnswer[] = "did not answer the watchdog's signal in time";

constexpr SourceMarkers Where(STALL_SOURCE);

ChildResult RunStall(const std::string& filter, double limit_s = 1,
                     const std::vector<std::string>& env = {}) {
  return RunChild({STALL_PROGRAM, "--gtest_filter=" + filter,
                   "--gtest_watchdog_timeout=" + std::to_string(limit_s)},
                  env);
}

TEST(Stall, SpinningBodyIsReportedWithFileAndLine) {
  const ChildResult r = RunStall("Stall.SpinInBody");
  ExpectAbortedPromptly(r, 1);
  if (kTsan) {
    // A spinning thread never enters ThreadSanitizer's runtime, which holds
    // asynchronous signals until it does: the report helper unwinds it
    // from outside (ptrace) instead.
    EXPECT_THAT(r.err, HasSubstr(kNoAnswer));
    EXPECT_THAT(r.err, HasSubstr("stack taken from outside with ptrace"));
  }
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.SpinInBody: test body "
                               "still running after 1."));
  EXPECT_THAT(r.err, HasSubstr("(limit 1 s, from --gtest_watchdog_timeout)"));
  EXPECT_THAT(r.err, HasSubstr("SpinForever()"));
  EXPECT_THAT(r.err, HasSubstr(Where("spin")));
  // The thread running the test is marked, and named in [ STALLED ].
  EXPECT_THAT(r.err, HasSubstr("[runs Stall.SpinInBody]"));
  EXPECT_THAT(r.err, HasSubstr("[ STALLED  ] thread"));
  EXPECT_THAT(r.out, HasSubstr("[ RUN      ] Stall.SpinInBody"));
}

TEST(Stall, DeadlockShowsBothThreadsAtTheirLockLines) {
  const ChildResult r = RunStall("Stall.Deadlock");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("Stall.Deadlock: test body still running"));
  EXPECT_THAT(r.err, HasSubstr(Where("join")));
  EXPECT_THAT(r.err,
              ContainsRegex(
                  "waiting to join (another thread|thread [0-9]+ \"[^\"]*\")"));
  // The cycle is named before any stack; under ThreadSanitizer the blocked
  // threads cannot answer a signal and are unwound from outside instead.
  EXPECT_THAT(r.err, ContainsRegex("\\[ DEADLOCK \\] thread [0-9]+ [^\n]* "
                                   "waits for mutex [^\n]*g_b"));
  EXPECT_THAT(r.err, ContainsRegex("in [^\n]*LockAThenB[^\n]* at "
                                   "stall_program.cc:[0-9]+ · [0-9]+ in "));
  if (kTsan) {
    EXPECT_THAT(r.err, HasSubstr("stack taken from outside"));
  }
  EXPECT_THAT(r.err, HasSubstr("LockAThenB("));
  EXPECT_THAT(r.err, HasSubstr("LockBThenA("));
  EXPECT_THAT(r.err, HasSubstr(Where("lock_a_then_b")));
  EXPECT_THAT(r.err, HasSubstr(Where("lock_b_then_a")));
  // Inlined library frames are shown, and the user's line still is.
  EXPECT_THAT(r.err, HasSubstr("std::mutex::lock() [inlined]"));
}

TEST(Stall, ThreadWithAllSignalsBlockedIsUnwoundFromOutside) {
  const ChildResult r = RunStall("Stall.SignalsBlocked");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("\"deaf_worker\""));
  EXPECT_THAT(r.err, HasSubstr("(its stack could not be taken: the thread "
                               "blocks the signal the watchdog uses to ask "
                               "for it; stack taken from outside with ptrace "
                               "instead)"));
  EXPECT_THAT(r.err, HasSubstr("waiting on condition variable"));
  EXPECT_THAT(r.err, HasSubstr("WaitWithSignalsBlocked()"));
  // The main thread still answers and is unwound.
  EXPECT_THAT(r.err, HasSubstr("Stall_SignalsBlocked_Test::TestBody()"));
}

TEST(Stall, ReportSurvivesAThreadHoldingTheStderrLock) {
  const ChildResult r = RunStall("Stall.StderrLockHeld");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.StderrLockHeld"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

TEST(Stall, ReportSurvivesAThreadHoldingTheMallocLock) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer replaces glibc's malloc and malloc_stats";
#endif
  const ChildResult r = RunStall("Stall.MallocLockHeld");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.MallocLockHeld"));
  EXPECT_THAT(r.err, HasSubstr("malloc_stats"));
  EXPECT_THAT(r.err, HasSubstr(Where("malloc")));
}

TEST(Stall, ThousandBlockedThreadsAreGroupedIntoAShortReport) {
  const ChildResult r = RunStall("Stall.ThousandThreads", 3);
  ExpectAbortedPromptly(r, 3);
  // 1000 + the test's + the watchdog's (+ a sanitizer runtime's own).
  EXPECT_THAT(r.err, ContainsRegex("\\[ THREADS  \\] 100[2-4] threads"));
  // Parked in one place, they print once, with their count and ids: a few
  // hundred lines at most (the issue's bar), here far fewer. Thread ids are
  // system-wide, so another process may take one in the middle: "4812,
  // 4814-5811" is as right as "4812-5811".
  EXPECT_THAT(r.err, ContainsRegex("(1000|999) threads with the same stack: "
                                   "[0-9]+(-[0-9]+)?(, [0-9]+(-[0-9]+)?)* "));
  size_t lines = 0;
  for (char c : r.err) lines += c == '\n';
  EXPECT_LT(lines, 300u) << r.err.substr(0, 4000);
  if (!kTsan) {
    EXPECT_THAT(r.err, HasSubstr(Where("thousand")));
  }
}

TEST(Stall, ThreadsStartingAndExitingDuringTheDumpDoNotStopIt) {
  const ChildResult r = RunStall("Stall.ThreadChurn");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.ThreadChurn"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

// The executable is deleted while the tests run (rebuilt, say): the report
// helper still starts (it runs /proc/self/exe) and still symbolizes it.
TEST(Stall, DeletedExecutableIsStillSymbolized) {
  char dir_template[] = "/tmp/gtest_watchdog_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string copy = std::string(dir_template) + "/stall_program";
  std::error_code error;
  ASSERT_TRUE(std::filesystem::copy_file(STALL_PROGRAM, copy, error))
      << error.message();
  // The program unlinks itself once running (see Stall.DeletesItself).
  const ChildResult r = RunChild({copy, "--gtest_filter=Stall.DeletesItself",
                                  "--gtest_watchdog_timeout=1s"});
  rmdir(dir_template);
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.DeletesItself: test body "
                               "still running after 1."));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

// No address space is left, so the report helper cannot start: the stalled
// process writes the raw stacks itself, with addresses addr2line resolves.
TEST(Stall, WithoutTheHelperTheRawReportStillComesOut) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers reserve terabytes of address space";
#endif
  const ChildResult r = RunStall("Stall.AddressSpaceExhausted");
  EXPECT_TRUE(r.signaled) << r.err;
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_LT(r.seconds, 1 + kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.AddressSpaceExhausted: "
                               "test still running after 1."));
  EXPECT_THAT(r.err, HasSubstr("could not symbolize"));
  // Without the helper no verdict is decided; the line right after the
  // headline says so, with what the kernel showed of the test's thread.
  EXPECT_THAT(r.err,
              HasSubstr(" (limit 1.00 s, from --gtest_watchdog_timeout)\n"
                        "[ VERDICT  ] not decided: the report helper "
                        "failed"));
  EXPECT_THAT(r.err, HasSubstr(", which runs the test, is sleeping in "));
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ]"));
  // The first frame in the test program is SleepForever(): resolve it as the
  // report tells the reader to. Those before it are pause() in libc: one
  // frame in older glibc, more where cancellable system calls go through
  // __syscall_cancel (Debian sid's glibc 2.43).
  std::string line;  // "    #N  0xPC  MODULE ADDR"
  for (size_t at = r.err.find("\n    #");
       at != std::string::npos && line.empty();
       at = r.err.find("\n    #", at + 1)) {
    const std::string frame =
        r.err.substr(at + 1, r.err.find('\n', at + 1) - at - 1);
    const size_t module_at = frame.find("  /");
    const size_t module_end = frame.rfind(' ');
    if (frame.find("  0x") == std::string::npos ||
        module_at == std::string::npos || module_end <= module_at)
      continue;
    const std::string module = frame.substr(module_at, module_end - module_at);
    const std::string program = "/stall_program";
    if (module.size() >= program.size() &&
        module.compare(module.size() - program.size(), program.size(),
                       program) == 0)
      line = frame;
  }
  ASSERT_FALSE(line.empty()) << "no frame in stall_program:\n" << r.err;
  const size_t addr_at = line.rfind(' ');
  const size_t module_at = line.find("  /");
  ASSERT_NE(module_at, std::string::npos) << line;
  const std::string module =
      line.substr(module_at + 2, addr_at - module_at - 2);
  const ChildResult resolved = RunChild({"/usr/bin/addr2line", "-f", "-C", "-e",
                                         module, line.substr(addr_at + 1)});
  EXPECT_THAT(resolved.out, HasSubstr("SleepForever()")) << line;
}

// stderr is full and never read: the report cannot be written. The dead-man
// timer (30 s, then a raw SIGABRT 2 s later) must still end the process —
// even though main() blocked every signal before the watchdog thread began.
TEST(Stall, DeadManEndsAReportThatCannotBeWritten) {
  const ChildResult r =
      RunChild({STALL_PROGRAM, "--gtest_filter=Stall.StderrBlocked",
                "--gtest_watchdog_timeout=1s"},
               {"STALL_BLOCK_ALL=1"}, 90, /*read_stderr=*/false);
  ExpectEndedByTheDeadMan(r);
}

TEST(Stall, ReportReachesTheRealStderrWhenATestCapturedIt) {
  const ChildResult r = RunStall("Stall.StderrCaptured");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Stall.StderrCaptured"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

TEST(Stall, ProgramResettingOurSignalStillGetsStacks) {
  const ChildResult r = RunStall("Stall.RealTimeSignalsReset");
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

TEST(Stall, IgnoredChildSignalDoesNotLoseTheReport) {
  const ChildResult r = RunStall("Stall.ChildSignalIgnored");
  ExpectAbortedPromptly(r, 1);  // includes: no raw fallback
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

TEST(Stall, ThreadWithATinyStackIsNotAskedToUnwind) {
  const ChildResult r = RunStall("Stall.SmallStackThread");
  ExpectAbortedPromptly(r, 1);  // not SIGSEGV from an overflowing handler
  EXPECT_THAT(r.err, HasSubstr("\"tiny_stack\""));
  // ThreadSanitizer gives threads bigger stacks than asked for.
  if (!kTsan) {
    EXPECT_THAT(r.err, HasSubstr("too little room is left on it"));
  }
}

TEST(Stall, EnvironmentVariableSetsTheLimit) {
  const ChildResult r =
      RunChild({STALL_PROGRAM, "--gtest_filter=Stall.SpinInBody"},
               {"GTEST_WATCHDOG_TIMEOUT=0.5s"});
  ExpectAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("(limit 500 ms, from GTEST_WATCHDOG_TIMEOUT)"));
}

struct PhaseCase {
  const char* name;
  const char* filter;
  const char* env;  // STALL_ENV value or ""
  const char* headline;
};

class PhaseStall : public testing::TestWithParam<PhaseCase> {};

TEST_P(PhaseStall, ReportNamesThePhase) {
  const PhaseCase& c = GetParam();
  std::vector<std::string> env;
  if (*c.env != '\0') env.push_back(std::string("STALL_ENV=") + c.env);
  const ChildResult r = RunStall(c.filter, 1, env);
  ExpectAbortedPromptly(r, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("[ TIMEOUT  ] ") + c.headline +
                               " still running after"));
  EXPECT_THAT(r.err, HasSubstr("SleepForever()"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

INSTANTIATE_TEST_SUITE_P(
    AllPhases, PhaseStall,
    testing::Values(
        PhaseCase{"EnvironmentSetUp", "Stall.Passes", "setup",
                  "global test environment: SetUp()"},
        PhaseCase{"EnvironmentTearDown", "Stall.Passes", "teardown",
                  "global test environment: TearDown()"},
        PhaseCase{"SetUpTestSuite", "HangInSetUpTestSuite.*", "",
                  "HangInSetUpTestSuite: SetUpTestSuite()"},
        PhaseCase{"TearDownTestSuite", "HangInTearDownTestSuite.*", "",
                  "HangInTearDownTestSuite: TearDownTestSuite()"},
        PhaseCase{"Constructor", "HangInConstructor.*", "",
                  "HangInConstructor.Test: fixture constructor"},
        PhaseCase{"SetUp", "HangInSetUp.*", "", "HangInSetUp.Test: SetUp()"},
        PhaseCase{"TearDown", "HangInTearDown.*", "",
                  "HangInTearDown.Test: TearDown()"},
        PhaseCase{"Destructor", "HangInDestructor.*", "",
                  "HangInDestructor.Test: fixture destructor"}),
    [](const testing::TestParamInfo<PhaseCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(NoFalseAlarm, EveryKindOfTestPassesUnderRepeatAndShuffle) {
  const ChildResult r =
      RunChild({NO_FALSE_ALARM_PROGRAM, "--gtest_repeat=10", "--gtest_shuffle",
                "--gtest_watchdog_timeout=1s"});
  // Shown with its "[  SKIPPED ]" lines defused (defuse_child_skips.cc).
  const std::string shown = r.out + r.err;
  EXPECT_FALSE(r.signaled) << shown;
  EXPECT_EQ(r.exit_code, 0) << shown;
  EXPECT_EQ(r.err.find("TIMEOUT"), std::string::npos) << shown;
  for (const char* expected :
       {"Short/Param.Sleeps/3", "Typed/2.DefaultIsZero",
        "My/TypeParameterized/1.Works", "[  SKIPPED ] Plain.Skipped"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos)
        << expected << " missing in:\n"
        << shown;
  }
}

}  // namespace
}  // namespace gtest_watchdog_test
