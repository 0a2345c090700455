// Runs tests/programs/crash_program scenarios as child processes: a crash
// or a chosen signal gets the same report as a stall (the test, the signal,
// every thread's stack), GoogleTest's output is written with the test
// failed, and the process still ends by the original signal.
#include <signal.h>
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

// What happens to a SIGSEGV after the report.
constexpr const char* kSegvPassedOn =
    kSanitizerOwnsFaults
        ? "SIGSEGV now goes to the handler installed before gtest_watchdog"
        : "SIGSEGV now takes its default action";

// Generous: the point is "ends promptly, not at some outer timeout".
constexpr double kPrompt = 25.0;

constexpr SourceMarkers Where(CRASH_SOURCE);

std::vector<std::string> Argv(const std::string& filter,
                              const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {CRASH_PROGRAM, "--gtest_filter=" + filter};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

ChildResult RunCrash(const std::string& filter,
                     const std::vector<std::string>& extra = {},
                     const std::vector<std::string>& env = {}) {
  return RunChild(Argv(filter, extra), env);
}

// The process ended by `sig`, as it would have without the watchdog; under
// a sanitizer that owns the signal, the way that sanitizer ends it.
void ExpectEndedBy(const ChildResult& r, int sig) {
  ExpectCrashEndedBy(r, sig, kPrompt);
  if (kSanitizerOwnsFaults &&
      (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE)) {
    EXPECT_THAT(r.err, HasSubstr(kSanitizerName));
  }
  EXPECT_THAT(r.err, Not(HasSubstr("could not symbolize")));
  EXPECT_THAT(r.err, Not(HasSubstr("crash_program: a later test ran")));
}

std::string TempPath(const std::string& name) {
  return gtest_watchdog_test::TempPath("crash", name);
}

TEST(Crash, NullWriteIsReportedWithEveryThreadAndTheXmlWritten) {
  const std::string xml = TempPath("null.xml");
  const ChildResult r =
      RunCrash("WithBackgroundThread.NullWrite", {"--gtest_output=xml:" + xml});
  ExpectEndedBy(r, SIGSEGV);
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] WithBackgroundThread.NullWrite: "
                               "test body: SIGSEGV (address not mapped to "
                               "object) at address 0x10"));
  // Where it hit, from the faulting instruction, not from our handler.
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ \"[^\"]*\" "
                                   "in [^\n]*WriteThroughNull\\(\\) at " +
                                   Where("null_write")));
  EXPECT_THAT(r.err, ContainsRegex("crashed here: SIGSEGV\n    #0  [^\n]*"
                                   "WriteThroughNull\\(\\)"));
  // The other thread, with its own stack.
  EXPECT_THAT(r.err, HasSubstr("\"bg_waiter\""));
  EXPECT_THAT(r.err, HasSubstr("WaitInBackground("));
  EXPECT_THAT(r.err, HasSubstr(Where("background_wait")));
  EXPECT_THAT(r.err, HasSubstr(kSegvPassedOn));
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  const std::string text = ReadFile(xml);
  EXPECT_THAT(text, ContainsRegex("name=\"NullWrite\"[^>]*>\\s*<failure "
                                  "message=\"[^\"]*gtest_watchdog: "
                                  "WithBackgroundThread.NullWrite: test body: "
                                  "SIGSEGV"));
  EXPECT_THAT(text, HasSubstr("WriteThroughNull()"));
  std::remove(xml.c_str());
}

TEST(Crash, JsonReportCarriesTheSignal) {
  const std::string json = TempPath("report.json");
  const ChildResult r = RunCrash("WithBackgroundThread.NullWrite",
                                 {"--gtest_watchdog_report=" + json});
  ExpectEndedBy(r, SIGSEGV);
  if (std::string(PYTHON3).empty()) GTEST_SKIP() << "python3 not found";
  const ChildResult v = RunChild(
      {PYTHON3, VALIDATE_JSON_REPORT, REPORT_SCHEMA, json, "--expect",
       "kind=crash", "--expect", "signal.name=SIGSEGV", "--expect",
       "signal.fault_address=0x10", "--expect",
       std::string("signal.passed_to=") +
           (kSanitizerOwnsFaults ? "previous-handler" : "default-action"),
       "--expect",
       "signal.crashed_at.function=(anonymous namespace)::WriteThroughNull()",
       "--expect", "test=WithBackgroundThread.NullWrite"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  std::remove(json.c_str());
}

TEST(Crash, StackOverflowIsReported) {
  const ChildResult r = RunCrash("WithBackgroundThread.StackOverflow");
  ExpectEndedBy(r, SIGSEGV);
  // The test part is unknown: the frames that would show it are cut.
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASH    \\] WithBackgroundThread."
                                   "StackOverflow: [^\n]*SIGSEGV \\(address "
                                   "not mapped to object\\) at address 0x"
                                   "[0-9a-f]+: stack overflow"));
  EXPECT_THAT(r.err, HasSubstr("Recurse(int)"));
  EXPECT_THAT(r.err, HasSubstr(Where("recurse")));
  // Thousands of frames deep: the top is kept, the rest cut.
  EXPECT_THAT(r.err, HasSubstr("deeper frames cut"));
}

TEST(Crash, DivideByZeroIsSigfpe) {
  const ChildResult r = RunCrash("WithBackgroundThread.DivideByZero");
  ExpectEndedBy(r, SIGFPE);
  EXPECT_THAT(r.err, HasSubstr("DivideByZero: test body: SIGFPE (integer "
                               "divide by zero)"));
  EXPECT_THAT(r.err, HasSubstr(Where("divide")));
}

TEST(Crash, BusErrorIsSigbus) {
  const ChildResult r = RunCrash("WithBackgroundThread.BusError");
  ExpectEndedBy(r, SIGBUS);
  EXPECT_THAT(r.err, HasSubstr("BusError: test body: SIGBUS (nonexistent "
                               "physical address (a file mapped past its "
                               "end?)) at address 0x"));
  EXPECT_THAT(r.err, HasSubstr(Where("bus")));
}

TEST(Crash, IllegalInstructionIsSigill) {
  const ChildResult r = RunCrash("WithBackgroundThread.IllegalInstruction");
  ExpectEndedBy(r, SIGILL);
  EXPECT_THAT(r.err, HasSubstr("IllegalInstruction: test body: SIGILL "
                               "(illegal operand)"));
  EXPECT_THAT(r.err, HasSubstr(Where("ill")));
}

TEST(Crash, AbortIsReportedAndEndsBySigabrt) {
  const ChildResult r = RunCrash("WithBackgroundThread.Abort");
  ExpectEndedBy(r, SIGABRT);
  EXPECT_THAT(r.err, HasSubstr("Abort: test body: SIGABRT (abort() or "
                               "raise() in this process)"));
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] [^\n]*AbortHere\\(\\) "
                                   "at " +
                                   Where("abort")));
  // Not mistaken for the watchdog's own abort.
  EXPECT_THAT(r.err, Not(HasSubstr("[ ABORT    ]")));
}

TEST(Crash, CrashInAnotherThreadNamesThatThreadAndTheTest) {
  const ChildResult r = RunCrash("Crash.InAnotherThread:Crash.ZzAfterwards");
  ExpectEndedBy(r, SIGSEGV);
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] Crash.InAnotherThread: test "
                               "body: SIGSEGV"));
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ "
                                   "\"crasher\" in [^\n]*WriteThroughNull"));
  // The test thread is shown where it waits.
  EXPECT_THAT(r.err, HasSubstr("[runs Crash.InAnotherThread]"));
  EXPECT_THAT(r.err,
              ContainsRegex(
                  "waiting to join (another thread|thread [0-9]+ \"[^\"]*\")"));
}

TEST(Crash, ProgramDoesNotFinishWhileACrashIsReported) {
  // Repeated: the test thread races the crash to the end of the program.
  for (int i = 0; i < 3; ++i) {
    const ChildResult r = RunCrash("Crash.WhileTheTestThreadFinishes");
    ExpectEndedBy(r, SIGSEGV);
    EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ "
                                     "\"late_crasher\""));
    EXPECT_THAT(r.err, HasSubstr(kSegvPassedOn));
  }
}

TEST(Crash, ThreadCrashingWhileStaticDestructorsRunIsStillReported) {
  // After main() returned, a global's destructor lets a thread crash: the
  // program must not finish exiting with status 0 behind the report.
  const ChildResult r =
      RunCrash("Crash.Passes", {}, {"CRASH_PROGRAM_CRASH_AT_EXIT=1"});
  ExpectEndedBy(r, SIGSEGV);
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test."));
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] outside any test: SIGSEGV"));
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ "
                                   "\"exit_crasher\" in [^\n]*"
                                   "WriteThroughNull"));
  EXPECT_THAT(r.err, HasSubstr(kSegvPassedOn));
}

TEST(Crash, UnwinderFaultingOnASmashedFrameStillGivesAReport) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's own signal wrapper walks the frame pointer before our
  // handler runs, faults on it, and the process ends by SIGSEGV unseen.
  GTEST_SKIP() << "ThreadSanitizer's runtime cannot run a handler here";
#endif
  const ChildResult r = RunCrash("Crash.SmashedFramePointer");
  // A sanitizer's handler, next in line, may itself fault on the smashed
  // frame pointer: then the process ends by SIGSEGV instead of its status.
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_LT(r.seconds, kPrompt);
  EXPECT_TRUE((r.signaled && r.signal == SIGSEGV) ||
              (kSanitizerOwnsFaults && r.exit_code == kSanitizerExitCode))
      << "signal " << r.signal << ", exit code " << r.exit_code << "\n"
      << r.err;
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] Crash.SmashedFramePointer: "));
  EXPECT_THAT(r.err, HasSubstr("SIGSEGV (address not mapped to object) at "
                               "address 0x10"));
  // The program counter alone: the frames above it could not be read.
  EXPECT_THAT(r.err, ContainsRegex("crashed here: SIGSEGV\n    #0  "
                                   "crash_program_smashed_frame  in "
                                   "crash_program\\+0x[0-9a-f]+\n    "
                                   "\\.\\.\\. \\(deeper frames cut\\)"));
  EXPECT_THAT(r.err, HasSubstr(kSegvPassedOn));
}

TEST(Crash, AbortOnAnotherThreadWaitsForTheReport) {
  const ChildResult r = RunCrash("Crash.AbortWhileACrashIsReported");
  ExpectEndedBy(r, SIGSEGV);
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ "
                                   "\"crasher\""));
  EXPECT_THAT(r.err, HasSubstr(kSegvPassedOn));
}

TEST(Crash, DeadManEndsASignalReportThatCannotBeWritten) {
  // The report and the dead-man's line both block on a full stderr; SIGABRT
  // keeps its handler during a signal report, so the backstop 2 s after the
  // dead-man is a real-time signal at its default action.
  const ChildResult r = RunChild(Argv("Crash.StderrBlockedThenCrash"), {}, 90,
                                 /*read_stderr=*/false);
  ExpectEndedByTheDeadMan(r, /*signo=*/0);
  EXPECT_GE(r.signal, SIGRTMIN);
}

TEST(Crash, NothingTheWatchdogStartedOutlivesTheProgram) {
  // The report helper stays until the program is gone, then exits: the
  // program's stderr (a CI log's pipe) closes with the program. A helper
  // left stopped would hold it open until the harness's limit. The program
  // runs under a shell that outlives it, as under a CI runner: its process
  // group is not orphaned when it dies, so the kernel would not wake a
  // stopped helper (SIGHUP, SIGCONT) either.
  const auto run = [](const std::string& program_and_args) {
    return RunChildUntilPipesClose(
        {"/bin/sh", "-c",
         program_and_args + "; exec sleep 60 </dev/null >/dev/null 2>&1"},
        {}, 30);
  };
  const ChildResult crash = run(std::string("'") + CRASH_PROGRAM +
                                "' --gtest_filter=Crash.InAnotherThread");
  EXPECT_FALSE(crash.killed_by_harness) << crash.err;
  EXPECT_LT(crash.seconds, kPrompt);
  EXPECT_THAT(crash.err, HasSubstr("[ CRASH    ] Crash.InAnotherThread"));
  // The same after a stall.
  const ChildResult stall =
      run(std::string("'") + STALL_PROGRAM +
          "' --gtest_filter=Stall.SpinInBody --gtest_watchdog_timeout=1s");
  EXPECT_FALSE(stall.killed_by_harness) << stall.err;
  EXPECT_LT(stall.seconds, kPrompt);
  EXPECT_THAT(stall.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
}

TEST(Crash, HandlerInstalledBeforeOursStillRuns) {
  const ChildResult r = RunCrash("WithBackgroundThread.NullWrite", {},
                                 {"CRASH_PROGRAM_USER_HANDLER=1"});
  // The user's handler puts back the default action and returns: the fault
  // comes again and ends the process, whatever the sanitizer.
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGSEGV) << r.err;
  EXPECT_LT(r.seconds, kPrompt);
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] WithBackgroundThread.NullWrite"));
  EXPECT_THAT(r.err, HasSubstr("SIGSEGV now goes to the handler installed "
                               "before gtest_watchdog"));
  // After our report, not before.
  const size_t report = r.err.find("[ CRASH    ]");
  const size_t user = r.err.find("user handler ran for signal 11");
  ASSERT_NE(user, std::string::npos) << r.err;
  EXPECT_LT(report, user);
}

TEST(Crash, AbseilFailureSignalHandlerInstalledBeforeOursStillRuns) {
  const ChildResult r = RunCrash("WithBackgroundThread.NullWrite", {},
                                 {"CRASH_PROGRAM_ABSL_HANDLER=1"});
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGSEGV) << r.err;
  EXPECT_LT(r.seconds, kPrompt);
  const size_t ours = r.err.find("[ CRASH    ] WithBackgroundThread.NullWrite");
  const size_t absl = r.err.find("*** SIGSEGV received at time=");
  ASSERT_NE(ours, std::string::npos) << r.err;
  ASSERT_NE(absl, std::string::npos) << r.err;
  EXPECT_LT(ours, absl);
}

TEST(Crash, SigquitToASleepingTestReportsAndEndsBySigquit) {
  const ChildResult r =
      RunChildAndSignal(Argv("WithBackgroundThread.Sleep"), {},
                        "crash_program: waiting for a signal", SIGQUIT);
  ExpectEndedBy(r, SIGQUIT);
  EXPECT_THAT(r.err, ContainsRegex("\\[ SIGNAL   \\] WithBackgroundThread."
                                   "Sleep: test body: SIGQUIT \\(sent by "
                                   "kill\\(\\)\\) from pid [0-9]+, "
                                   "[0-9.]+ s into it"));
  // The thread running the test, where it sleeps.
  EXPECT_THAT(r.err, ContainsRegex("\\[ RUNNING  \\] thread [0-9]+ in "
                                   "[^\n]*SleepUntilSignalled\\(\\) at " +
                                   Where("sleep")));
  EXPECT_THAT(r.err, HasSubstr("\"bg_waiter\""));
}

TEST(Crash, SigtermIsReportedOnlyWhenChosen) {
  // Not chosen: SIGTERM ends the process at once, as always.
  const ChildResult plain =
      RunChildAndSignal(Argv("WithBackgroundThread.Sleep"), {},
                        "crash_program: waiting for a signal", SIGTERM);
  EXPECT_TRUE(plain.signaled);
  EXPECT_EQ(plain.signal, SIGTERM);
  EXPECT_THAT(plain.err, Not(HasSubstr("[ SIGNAL   ]")));
  // Chosen with the flag (Bazel's and nextest's timeout signal).
  const ChildResult flag =
      RunChildAndSignal(Argv("WithBackgroundThread.Sleep",
                             {"--gtest_watchdog_signals=default,SIGTERM"}),
                        {}, "crash_program: waiting for a signal", SIGTERM);
  ExpectEndedBy(flag, SIGTERM);
  EXPECT_THAT(flag.err, HasSubstr("[ SIGNAL   ] WithBackgroundThread.Sleep: "
                                  "test body: SIGTERM"));
  // Chosen in the environment (CTest's TIMEOUT_SIGNAL_NAME=SIGUSR1).
  const ChildResult env =
      RunChildAndSignal(Argv("WithBackgroundThread.Sleep"),
                        {"GTEST_WATCHDOG_SIGNALS=default,SIGUSR1"},
                        "crash_program: waiting for a signal", SIGUSR1);
  ExpectEndedBy(env, SIGUSR1);
  EXPECT_THAT(env.err, HasSubstr("test body: SIGUSR1"));
}

TEST(Crash, NoneLeavesCrashesAlone) {
  const ChildResult r = RunCrash("WithBackgroundThread.NullWrite",
                                 {"--gtest_watchdog_signals=none"});
  ExpectEndedBy(r, SIGSEGV);
  EXPECT_THAT(r.err, Not(HasSubstr("[ CRASH    ]")));
}

TEST(Crash, DeathTestsOfBothStylesAreNotReported) {
  const ChildResult r = RunCrash("Crash.DeathTestsAreLeftAlone");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("crash_program: death tests done"));
  EXPECT_THAT(r.err, Not(HasSubstr("[ CRASH    ]")));
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test"));
}

TEST(Crash, BadSignalListStopsBeforeAnyTest) {
  const ChildResult r = RunCrash("*", {"--gtest_watchdog_signals=SIGKILL"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--gtest_watchdog_signals: invalid value "
                               "'SIGKILL': SIGKILL cannot be used: it cannot "
                               "be caught"));
  EXPECT_THAT(r.out, Not(HasSubstr("[ RUN      ]")));
  const ChildResult env =
      RunCrash("*", {}, {"GTEST_WATCHDOG_SIGNALS=default,SIGBANANA"});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_THAT(env.err, HasSubstr("GTEST_WATCHDOG_SIGNALS: invalid value "
                                 "'default,SIGBANANA': 'SIGBANANA' is not a "
                                 "signal"));
}

}  // namespace
}  // namespace gtest_watchdog_test
