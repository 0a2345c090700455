// Fault injection: runs tests/programs/fault_program scenarios as child
// processes — a stall or a crash in a process that is short of something
// (threads by the thousand, descriptors, address space, its signals, its
// stderr), tests that end the program themselves (exit(), quick_exit(),
// hanging static destructors), --gtest_repeat with failures, death tests,
// fork() and vfork(), and a crash, a signal or a deadline arriving while a
// report is being written — and checks the report, how the process ended
// and that it ended promptly.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr SourceMarkers Where(FAULT_SOURCE);

std::vector<std::string> Argv(const std::string& filter, double limit_s,
                              const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {
      FAULT_PROGRAM, "--gtest_filter=" + filter,
      "--gtest_watchdog_timeout=" + std::to_string(limit_s)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

ChildResult RunFault(const std::string& filter, double limit_s = 0.5,
                     const std::vector<std::string>& extra = {},
                     const std::vector<std::string>& env = {}) {
  return RunChild(Argv(filter, limit_s, extra), env);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// ExpectAbortedPromptly, and only one report: one timeout, no crash or
// signal report, no report cut short.
void ExpectOneReportAbortedPromptly(const ChildResult& r, double limit_s) {
  ExpectAbortedPromptly(r, limit_s);
  EXPECT_EQ(Count(r.err, "[ TIMEOUT  ]"), 1u) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("[ CRASH    ]")));
  EXPECT_THAT(r.err, Not(HasSubstr("[ SIGNAL   ]")));
  EXPECT_THAT(r.err, Not(HasSubstr("did not finish within")));
}

// Ended by itself, with `code`, and nothing reported: the watchdog's
// limit `limit_s` never passed (a report would say so). The time bound is
// generous: start-up and exit count too, on a loaded machine.
void ExpectEndedByItself(const ChildResult& r, int code, double limit_s) {
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_FALSE(r.signaled) << "signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.exit_code, code) << r.out << r.err;
  EXPECT_LT(r.seconds, limit_s + kSlack);
  for (const char* marker : {"[ TIMEOUT  ]", "[ CRASH    ]", "[ SIGNAL   ]",
                             "[ WATCHDOG ]", "[ ABORT    ]"}) {
    EXPECT_THAT(r.err, Not(HasSubstr(marker)));
  }
}

std::string TempPath(const std::string& name) {
  return gtest_watchdog_test::TempPath("fault", name);
}

// The JSON report at `path` is valid against its schema and says what
// `expect` says (KEY=VALUE, see validate_json_report.py).
void ExpectJsonReport(const std::string& path,
                      const std::vector<std::string>& expect) {
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0) << "no JSON report at " << path;
  if (std::string(PYTHON3).empty()) return;  // exists; cannot validate
  std::vector<std::string> argv = {PYTHON3, VALIDATE_JSON_REPORT, REPORT_SCHEMA,
                                   path};
  for (const std::string& e : expect) {
    argv.push_back("--expect");
    argv.push_back(e);
  }
  const ChildResult v = RunChild(argv);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// The test `suite_test` failed in the XML file with the watchdog's message,
// `frame` (a function of the test thread's stack) in it.
void ExpectXmlFailure(const std::string& xml, const std::string& suite_test,
                      const std::string& frame) {
  const std::string text = ReadFile(xml);
  const std::string name = suite_test.substr(suite_test.find('.') + 1);
  EXPECT_THAT(text, ContainsRegex("name=\"" + name +
                                  "\"[^>]*>\\s*<failure message=\"[^\"]*"
                                  "gtest_watchdog: " +
                                  suite_test))
      << text;
  EXPECT_THAT(text, HasSubstr(frame));
}

// The pid after "fault_program: child " on stdout, or 0.
pid_t ChildPid(const std::string& out) {
  const std::string key = "fault_program: child ";
  const size_t at = out.find(key);
  return at == std::string::npos ? 0 : std::atoi(out.c_str() + at + key.size());
}

// ============================ threads ============================

TEST(Fault, FiveThousandThreadsAreReportedPromptlyAndGrouped) {
  if (kTsan) {
    GTEST_SKIP() << "too slow under ThreadSanitizer: starting 5,000 "
                    "threads takes it 10-30 s, and none of them, blocked in "
                    "pthread_mutex_lock, runs the stack signal's handler, so "
                    "the report unwinds all 5,000 with ptrace (8 s more)";
  }
  const double limit = 2;  // starting them takes a fraction of it
  const ChildResult r = RunFault("Fault.FiveThousandThreads", limit);
  ExpectOneReportAbortedPromptly(r, limit);
  EXPECT_THAT(r.out, HasSubstr("fault_program: 5000 threads started"));
  // 5,000 + the test's + the watchdog's (+ a sanitizer runtime's own).
  EXPECT_THAT(r.err, ContainsRegex("\\[ THREADS  \\] 500[2-4] threads"));
  // Grouped by stack: a group or two (threads that did not answer the
  // signal within its 1 s, on a busy machine, are unwound with ptrace and
  // grouped apart), each listing its thread ids as ranges. Thread ids are
  // system-wide: another process may take one in the middle of a range.
  int grouped = 0;
  int groups = 0;
  const std::string same = " threads with the same stack: ";
  for (size_t at = r.err.find(same); at != std::string::npos;
       at = r.err.find(same, at + 1)) {
    const size_t line = r.err.rfind('\n', at) + 1;  // npos + 1 == 0
    const size_t end = r.err.find('\n', at);
    const std::string text = r.err.substr(line, end - line);
    EXPECT_THAT(text, ContainsRegex("^[0-9]+ threads with the same stack: "
                                    "[0-9]+(-[0-9]+)?(, [0-9]+(-[0-9]+)?)* "));
    if (text.find("blocked on mutex (anonymous namespace)::g_crowd_mutex") !=
        std::string::npos) {
      grouped += std::atoi(text.c_str());
      ++groups;
    }
  }
  EXPECT_GE(grouped, 4999) << r.err.substr(0, 4000);  // one may be on its way
  EXPECT_LE(groups, 3);
  EXPECT_THAT(r.err, HasSubstr(Where("crowd")));
  size_t lines = 0;
  for (char c : r.err) lines += c == '\n';
  EXPECT_LT(lines, 300u) << r.err.substr(0, 4000);
}

TEST(Fault, ThreadsStartingAndExitingEverywhereDoNotStopAStallReport) {
  const ChildResult r = RunFault("Fault.ChurnThenStall");
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Fault.ChurnThenStall: test body "
                               "still running after"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.err, HasSubstr("\"churner\""));
}

TEST(Fault, ThreadsStartingAndExitingEverywhereDoNotStopACrashReport) {
  const ChildResult r = RunFault("Fault.ChurnThenCrash", 30);
  ExpectCrashEndedBy(r, SIGSEGV, kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] Fault.ChurnThenCrash: test body: "
                               "SIGSEGV (address not mapped to object) at "
                               "address 0x10"));
  EXPECT_THAT(r.err, ContainsRegex("\\[ CRASHED  \\] thread [0-9]+ [^\n]* in "
                                   "[^\n]*WriteThroughBadPointer\\(\\) at " +
                                   Where("crash")));
  EXPECT_THAT(r.err, HasSubstr("\"churner\""));
  EXPECT_THAT(r.err, Not(HasSubstr("could not symbolize")));
}

// ============================ signals ============================

// The report's paragraph on the thread whose first line contains `marker`.
std::string ThreadParagraph(const std::string& err, const std::string& marker) {
  const size_t at = err.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = err.rfind('\n', at) + 1;  // npos + 1 == 0
  const size_t end = err.find("\n\n", at);
  return err.substr(start, end == std::string::npos ? end : end - start);
}

// The test's thread and the worker each answered the watchdog's signal (a
// sanitizer runtime's own thread, blocking every signal, may not).
void ExpectOurThreadsAnswered(const ChildResult& r, const std::string& test) {
  for (const std::string& marker :
       {"[runs " + test + "]", std::string("\"fault_worker\"")}) {
    const std::string paragraph = ThreadParagraph(r.err, marker);
    EXPECT_THAT(paragraph, HasSubstr(" at /")) << marker << "\n" << r.err;
    EXPECT_THAT(paragraph, Not(HasSubstr("could not be taken"))) << paragraph;
  }
}

void ExpectEveryStack(const ChildResult& r) {
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.err, HasSubstr(Where("worker")));
  EXPECT_THAT(r.err, HasSubstr("\"fault_worker\""));
  // Our signals never reached the program's own handlers.
  EXPECT_THAT(r.out, Not(HasSubstr("real-time handler ran")));
}

TEST(Fault, SignalsTheWatchdogWouldPickAreTakenSoItPicksOthers) {
  const ChildResult r =
      RunFault("Fault.StallWithAWorker", 0.5, {}, {"FAULT_TAKE_SIGNALS=ours"});
  ExpectOneReportAbortedPromptly(r, 0.5);
  ExpectEveryStack(r);
  ExpectOurThreadsAnswered(r, "Fault.StallWithAWorker");
}

TEST(Fault, EveryRealTimeSignalTakenStillGivesEveryStack) {
  const ChildResult r =
      RunFault("Fault.StallWithAWorker", 0.5, {}, {"FAULT_TAKE_SIGNALS=all"});
  ExpectOneReportAbortedPromptly(r, 0.5);
  ExpectEveryStack(r);
  // No signal to ask with: the helper takes every stack from outside.
  for (const std::string& marker :
       {std::string("[runs Fault.StallWithAWorker]"),
        std::string("\"fault_worker\"")}) {
    EXPECT_THAT(ThreadParagraph(r.err, marker),
                HasSubstr("stack taken from outside with ptrace"))
        << marker;
  }
}

// No real-time signal left for the dead-man timer, and a report that
// cannot be written (stderr full, never read): the raw SIGABRT backstop still
// ends the process, 2 s after the dead-man's 30 s.
TEST(Fault, EveryRealTimeSignalTakenAndAReportThatHangsStillEnds) {
  const ChildResult r = RunChild(Argv("Fault.StderrFullThenStall", 0.5, {}),
                                 {"FAULT_TAKE_SIGNALS=all"}, 90,
                                 /*read_stderr=*/false);
  ExpectEndedByTheDeadMan(r);
}

TEST(Fault, ProgramReplacingOurHandlerAfterStartUpStillGivesEveryStack) {
  const ChildResult r = RunFault("Fault.ReplaceRealTimeHandlersThenStall");
  ExpectOneReportAbortedPromptly(r, 0.5);
  ExpectEveryStack(r);
  ExpectOurThreadsAnswered(r, "Fault.ReplaceRealTimeHandlersThenStall");
}

TEST(Fault, TestThreadBlockingEverySignalIsUnwoundFromOutside) {
  const ChildResult r = RunFault("Fault.TestThreadBlocksEverySignal");
  ExpectOneReportAbortedPromptly(r, 0.5);
  ExpectEveryStack(r);
  EXPECT_THAT(r.err, ContainsRegex("\\[runs Fault.TestThreadBlocksEverySignal"
                                   "\\][^\n]*\n[^\n]*blocks the signal the "
                                   "watchdog uses"));
}

// ============================ resources ============================

TEST(Fault, NoFileDescriptorLeftAtTheStallStillGivesEveryOutput) {
  const std::string xml = TempPath("nofile.xml");
  const std::string json = TempPath("nofile.json");
  const ChildResult r = RunFault(
      "Fault.NoFileDescriptorsLeftThenStall", 0.5,
      {"--gtest_output=xml:" + xml, "--gtest_watchdog_report=" + json});
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.out, HasSubstr("fault_program: no descriptor left"));
  ExpectEveryStack(r);
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  ExpectXmlFailure(xml, "Fault.NoFileDescriptorsLeftThenStall",
                   "SleepForever()");
  ExpectJsonReport(
      json, {"kind=timeout", "test=Fault.NoFileDescriptorsLeftThenStall"});
  std::remove(xml.c_str());
  std::remove(json.c_str());
}

TEST(Fault, NoFileDescriptorLeftAtACrashStillGivesEveryOutput) {
  const std::string xml = TempPath("nofile_crash.xml");
  const ChildResult r = RunFault("Fault.NoFileDescriptorsLeftThenCrash", 30,
                                 {"--gtest_output=xml:" + xml});
  ExpectCrashEndedBy(r, SIGSEGV, kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ CRASH    ] Fault.NoFileDescriptorsLeftThen"
                               "Crash: test body: SIGSEGV"));
  EXPECT_THAT(r.err, HasSubstr(Where("crash")));
  EXPECT_THAT(r.err, HasSubstr(Where("worker")));
  EXPECT_THAT(r.err, Not(HasSubstr("could not symbolize")));
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  ExpectXmlFailure(xml, "Fault.NoFileDescriptorsLeftThenCrash",
                   "WriteThroughBadPointer()");
  std::remove(xml.c_str());
}

// Fully exhausted is Stall.WithoutTheHelperTheRawReportStillComesOut; with
// a little left, the helper must still start and symbolize.
TEST(Fault, AddressSpaceNearlyExhaustedStillGivesTheSymbolizedReport) {
  if (kAsan || kTsan) {
    GTEST_SKIP() << "sanitizers reserve terabytes of address space";
  }
  const ChildResult r = RunFault("Fault.AddressSpaceNearlyExhaustedThenStall");
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.out, HasSubstr("fault_program: address space left"));
  ExpectEveryStack(r);
}

// More threads than the storage prepared at start-up, and too little
// address space left to map more at the stall: the report still lists the
// threads it has room for, the test's among them.
TEST(Fault, ManyThreadsWithLittleAddressSpaceLeftAreStillListed) {
  if (kAsan || kTsan) {
    GTEST_SKIP() << "sanitizers reserve terabytes of address space";
  }
  const ChildResult r =
      RunFault("Fault.ManyThreadsAndAddressSpaceNearlyExhaustedThenStall", 2);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_LT(r.seconds, 2 + kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
  EXPECT_THAT(r.err, HasSubstr("[runs Fault.ManyThreadsAndAddressSpaceNearly"
                               "ExhaustedThenStall]"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.err, ContainsRegex("\\[ THREADS  \\] 10[0-9][0-9] threads"));
}

// ============================ stderr ============================

TEST(Fault, ClosingStderrMidTestDoesNotLoseTheReport) {
  const ChildResult r = RunFault("Fault.ClosesStderrThenStall");
  ExpectOneReportAbortedPromptly(r, 0.5);
  ExpectEveryStack(r);
}

// Started with fd 2 closed (2>&-): the report has nowhere to go, but it
// must not go into a file the test opens (which may get a low number), and
// the JSON report and GoogleTest's output, which need no stderr, must still
// be written, with the stack.
TEST(Fault, StartedWithStderrClosedTheReportGoesIntoNoFileOfTheTest) {
  const std::string file = TempPath("own_file");
  const std::string json = TempPath("closed.json");
  const std::string xml = TempPath("closed.xml");
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&-"};
  for (const std::string& a :
       Argv("Fault.OpensAFileThenStall", 0.5,
            {"--gtest_watchdog_report=" + json, "--gtest_output=xml:" + xml})) {
    argv.push_back(a);
  }
  const ChildResult r = RunChild(argv, {"FAULT_FILE=" + file});
  EXPECT_FALSE(r.killed_by_harness) << r.out;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.out;
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_LT(r.seconds, 0.5 + kSlack);
  EXPECT_THAT(r.out, HasSubstr("fault_program: the test's file is on fd"));
  EXPECT_EQ(ReadFile(file), "the test's own data\n");
  ExpectJsonReport(json, {"kind=timeout", "test=Fault.OpensAFileThenStall"});
  ExpectXmlFailure(xml, "Fault.OpensAFileThenStall", "SleepForever()");
  for (const std::string& path : {file, json, xml}) std::remove(path.c_str());
}

// stderr is a pipe whose reader is gone: every write to it fails (EPIPE)
// or raises SIGPIPE. The process must still end by the watchdog's abort,
// not by SIGPIPE, and the outputs that do not go to stderr be written.
TEST(Fault, StderrPipeWithoutAReaderDoesNotEndAStallBySigpipe) {
  const std::string json = TempPath("pipe.json");
  const std::string xml = TempPath("pipe.xml");
  const ChildResult r =
      RunFault("Fault.StallWithAWorker", 0.5,
               {"--gtest_watchdog_report=" + json, "--gtest_output=xml:" + xml},
               {"FAULT_STDERR=broken_pipe"});
  EXPECT_FALSE(r.killed_by_harness);
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code;
  EXPECT_EQ(r.signal, SIGABRT) << "not SIGPIPE (" << SIGPIPE << ")";
  EXPECT_GE(r.seconds, 0.45);
  EXPECT_LT(r.seconds, 0.5 + kSlack);
  EXPECT_THAT(r.out, HasSubstr("[ RUN      ] Fault.StallWithAWorker"));
  ExpectJsonReport(json, {"kind=timeout", "test=Fault.StallWithAWorker"});
  ExpectXmlFailure(xml, "Fault.StallWithAWorker", "SleepForever()");
  std::remove(json.c_str());
  std::remove(xml.c_str());
}

TEST(Fault, StderrPipeWithoutAReaderDoesNotChangeHowACrashEnds) {
  const std::string json = TempPath("pipe_crash.json");
  const ChildResult r = RunFault("Fault.CrashWithAWorker", 30,
                                 {"--gtest_watchdog_report=" + json},
                                 {"FAULT_STDERR=broken_pipe"});
  ExpectCrashEndedBy(r, SIGSEGV, kSlack);
  ExpectJsonReport(json, {"kind=crash", "signal.name=SIGSEGV",
                          "test=Fault.CrashWithAWorker"});
  std::remove(json.c_str());
}

// ============================ exit ============================

TEST(Fault, ExitMidTestEndsWithItsStatusAndNoReport) {
  ExpectEndedByItself(RunFault("Fault.ExitsMidTest", 5), 7, 5);
}

TEST(Fault, QuickExitMidTestEndsWithItsStatusAndNoReport) {
  ExpectEndedByItself(RunFault("Fault.QuickExitsMidTest", 5), 9, 5);
}

TEST(Fault, DetachedThreadsStillRunningAtExitDoNotHoldTheProgram) {
  const ChildResult r =
      RunFault("Fault.LeavesDetachedThreadsRunning:Fault.LaterTestPasses", 5);
  ExpectEndedByItself(r, 0, 5);
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 2 tests."));
}

// exit() mid-test, then a static destructor hangs: the test's limit passes
// while static destructors run (GoogleTest's among them, already gone): the
// report still comes, names the test and shows the destructor.
TEST(Fault, StaticDestructorHangingAfterExitMidTestIsReported) {
  const std::string xml = TempPath("exit.xml");
  const ChildResult r = RunFault("Fault.ExitsWhileAStaticDestructorHangs", 0.5,
                                 {"--gtest_output=xml:" + xml});
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Fault.ExitsWhileAStaticDestructor"
                               "Hangs: test body still running after"));
  EXPECT_THAT(r.err, HasSubstr("HangAtExit::~HangAtExit()"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  // GoogleTest's results went with its static objects: nothing to write.
  EXPECT_THAT(r.err, HasSubstr("[ WATCHDOG ] GoogleTest's output file is not "
                               "written: the program was already exiting"));
  std::remove(xml.c_str());
}

// After main() returned nothing is armed but the whole-run limit.
TEST(Fault, StaticDestructorHangingAfterMainIsReportedByTheWholeRunLimit) {
  const ChildResult r = RunFault("Fault.PassesThenAStaticDestructorHangs", 30,
                                 {"--gtest_watchdog_total_timeout=1s"});
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test."));
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT);
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 1 + kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] the whole test run still running "
                               "after 1."));
  EXPECT_THAT(r.err, HasSubstr("HangAtExit::~HangAtExit()"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
}

// ============================ --gtest_repeat ============================

TEST(Fault, RepeatWithFailuresRunsEveryIterationWithoutAFalseAlarm) {
  const ChildResult r = RunFault("Repeat.*", 0.5, {"--gtest_repeat=5"});
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Repeating all tests (iteration 5)"));
  EXPECT_EQ(Count(r.out, "[  FAILED  ] Repeat.Throws ("), 5u) << r.out;
  EXPECT_EQ(Count(r.out, "[  FAILED  ] Repeat.AssertFails ("), 5u);
  EXPECT_EQ(Count(r.out, "[  FAILED  ] Repeat.ExpectFails ("), 5u);
  EXPECT_THAT(r.err, Not(HasSubstr("[ TIMEOUT  ]")));
  EXPECT_THAT(r.err, Not(HasSubstr("[ ABORT    ]")));
}

TEST(Fault, RepeatForeverWithFailuresStillReportsAStallInALaterIteration) {
  const ChildResult r =
      RunFault("Repeat.*", 0.5, {"--gtest_repeat=-1"}, {"FAULT_STALL_RUN=3"});
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Repeat.StallsOnTheNthRun: test "
                               "body still running after"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
  EXPECT_THAT(r.out, HasSubstr("Repeat.StallsOnTheNthRun run 3"));
  EXPECT_THAT(r.out, HasSubstr("Repeating all tests (iteration 3)"));
  EXPECT_THAT(r.out, Not(HasSubstr("Repeating all tests (iteration 4)")));
}

// ============================ death tests ============================

TEST(Fault, HangingFastDeathTestChildIsReportedOnceByTheParent) {
  const ChildResult r = RunFault("Fault.FastDeathTestChildHangs");
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Fault.FastDeathTestChildHangs"));
  EXPECT_THAT(r.err, HasSubstr("[ CHILDREN ] 1 child process"));
  EXPECT_THAT(r.err,
              ContainsRegex("pid [0-9]+ \\([^)]*\\): [^\n]*fault_program "
                            "--gtest_filter=Fault.FastDeathTestChildHangs"));
}

TEST(Fault, AfterDeathTestsOfBothStylesTheWatchdogStillFires) {
  const double limit = 2;  // four death tests, two of them re-executing us
  const ChildResult r = RunFault("Fault.DeathTestsPassThenTheTestHangs", limit);
  EXPECT_THAT(r.out, HasSubstr("fault_program: death tests passed"));
  ExpectOneReportAbortedPromptly(r, limit);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Fault.DeathTestsPassThenTheTest"
                               "Hangs: test body still running"));
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

// ============================ fork, vfork ============================

TEST(Fault, ForkedChildrenEndAsTheyWouldWithoutTheWatchdog) {
  const ChildResult r = RunFault("Fault.ForkedChildrenEndAsTheyWould", 5);
  ExpectEndedByItself(r, 0, 5);
  EXPECT_THAT(r.out, HasSubstr("fault_program: exit(3): exit 3\n"));
  EXPECT_THAT(r.out, HasSubstr("fault_program: _exit(4): exit 4\n"));
  EXPECT_THAT(r.out, HasSubstr("fault_program: abort(): signal 6\n"));
  EXPECT_THAT(
      r.out, HasSubstr(kSanitizerOwnsFaults
                           ? "fault_program: crash: exit " +
                                 std::to_string(kSanitizerExitCode) + "\n"
                           : std::string("fault_program: crash: signal 11\n")));
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test."));
}

TEST(Fault, ForkedChildThatHangsIsListedAndDoesNotOutliveTheProgram) {
  const ChildResult r = RunFault("Fault.ForkedChildHangs");
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr(Where("waitpid")));
  EXPECT_THAT(r.err, HasSubstr("[ CHILDREN ] 1 child process"));
  EXPECT_THAT(r.out, Not(HasSubstr("the test woke up")));
  const pid_t child = ChildPid(r.out);
  ASSERT_GT(child, 0) << r.out;
  EXPECT_TRUE(StopsRunningWithin(child, 5)) << "pid " << child;
}

TEST(Fault, VforkAndExecInATestRaiseNoFalseAlarm) {
  const ChildResult r = RunFault("Fault.VforkExecPasses", 5);
  ExpectEndedByItself(r, 0, 5);
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 1 test."));
}

TEST(Fault, VforkedChildThatHangsIsListedAndDoesNotOutliveTheProgram) {
  const ChildResult r = RunFault("Fault.VforkExecHangs");
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr(Where("vfork_waitpid")));
  EXPECT_THAT(r.err, HasSubstr("[ CHILDREN ] 1 child process"));
  EXPECT_THAT(r.err, ContainsRegex("pid [0-9]+ \\([^)]*\\): sleep 303\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("the test woke up")));
  const pid_t child = ChildPid(r.out);
  ASSERT_GT(child, 0) << r.out;
  EXPECT_TRUE(StopsRunningWithin(child, 5)) << "pid " << child;
}

// ============================ nested ============================

TEST(Fault, CrashWhileATimeoutIsReportedWaitsForThatReport) {
  const ChildResult r = RunFault("Fault.CrashWhileTheTimeoutIsReported");
  EXPECT_THAT(r.out, HasSubstr("fault_program: crashing during the report"));
  ExpectOneReportAbortedPromptly(r, 0.5);  // one report, the timeout's; SIGABRT
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

TEST(Fault, SigquitWhileATimeoutIsReportedWaitsForThatReport) {
  const ChildResult r = RunFault("Fault.SigquitWhileTheTimeoutIsReported");
  EXPECT_THAT(r.out, HasSubstr("fault_program: SIGQUIT during the report"));
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr(Where("sleep")));
}

// exit() while the report is being written would destroy GoogleTest's
// objects under it: the exiting thread waits for the report's end instead.
TEST(Fault, ExitWhileATimeoutIsReportedWaitsForThatReport) {
  const std::string xml = TempPath("exit_during.xml");
  const ChildResult r = RunFault("Fault.ExitWhileTheTimeoutIsReported", 0.5,
                                 {"--gtest_output=xml:" + xml});
  EXPECT_THAT(r.out, HasSubstr("fault_program: exit() during the report"));
  ExpectOneReportAbortedPromptly(r, 0.5);
  EXPECT_THAT(r.err, HasSubstr("[ TIMEOUT  ] Fault.ExitWhileTheTimeoutIs"
                               "Reported: test body still running after"));
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  ExpectXmlFailure(xml, "Fault.ExitWhileTheTimeoutIsReported",
                   "SleepForever()");
  std::remove(xml.c_str());
}

// The test's limit passes while a SIGQUIT's report is held up on a full
// stderr pipe (drained only 2.5 s later, to nowhere): no second report, and
// the process ends by the signal. The JSON report tells which report it was.
TEST(Fault, DeadlinePassingDuringASignalReportStartsNoSecondReport) {
  const std::string json = TempPath("held.json");
  const ChildResult r =
      RunFault("Fault.DeadlinePassesWhileASignalIsReported", 1,
               {"--gtest_watchdog_report=" + json}, {"FAULT_STDERR=held"});
  EXPECT_THAT(r.out, HasSubstr("fault_program: SIGQUIT with stderr held back"));
  EXPECT_FALSE(r.killed_by_harness);
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code;
  EXPECT_EQ(r.signal, SIGQUIT) << "not the timeout's SIGABRT";
  EXPECT_GE(r.seconds, 2.4);  // held back until the limit had long passed
  EXPECT_LT(r.seconds, 2.5 + kSlack);
  ExpectJsonReport(json, {"kind=signal", "signal.name=SIGQUIT",
                          "test=Fault.DeadlinePassesWhileASignalIsReported"});
  std::remove(json.c_str());
}

}  // namespace
}  // namespace gtest_watchdog_test
