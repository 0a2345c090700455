// Tests for the human report (gtest_watchdog/report/report_formatter.h), with
// a fake symbolizer mapping made-up program counters to frames.

#include "gtest_watchdog/report/report_formatter.h"

#include <signal.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/text_escape.h"
#include "gtest_watchdog/diagnose/analysis.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Frames as GoogleTest 1.12+ shows them under a test, outermost last.
std::vector<SourceFrame> GtestTestRunFrames() {
  return {
      Fn("void testing::internal::HandleExceptionsInMethodIfSupported<testing::"
         "Test, void>(testing::Test*, void (testing::Test::*)(), char const*)",
         "/src/googletest/src/gtest.cc", 2650),
      Fn("testing::Test::Run()", "/src/googletest/src/gtest.cc", 2687),
      Fn("testing::TestInfo::Run()", "/src/googletest/src/gtest.cc", 2836),
      Fn("testing::TestSuite::Run()", "/src/googletest/src/gtest.cc", 3015),
      Fn("testing::internal::UnitTestImpl::RunAllTests()",
         "/src/googletest/src/gtest.cc", 5920),
      Fn("testing::UnitTest::Run()", "/src/googletest/src/gtest.cc", 5500),
      Fn("RUN_ALL_TESTS()", "/usr/include/gtest/gtest.h", 2334, true),
      Fn("main", "/src/gtest_watchdog/main.cc", 10),
      Fn("__libc_start_call_main", "", 0),
      Fn("_start", "", 0),
  };
}

std::vector<SourceFrame> Concat(std::vector<SourceFrame> inner,
                                const std::vector<SourceFrame>& outer) {
  inner.insert(inner.end(), outer.begin(), outer.end());
  return inner;
}

// ---- ClassifyTestPart ----

TEST(ClassifyTestPartTest, Body) {
  const auto frames =
      Concat({Fn("__futex_abstimed_wait_common", "", 0),
              Fn("std::mutex::lock()", "/usr/include/c++/12/bits/std_mutex.h",
                 100, true),
              Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
             GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kBody);
}

TEST(ClassifyTestPartTest, TypedAndAnonymousNamespaceBody) {
  EXPECT_EQ(ClassifyTestPart(Concat(
                {Fn("(anonymous namespace)::Foo_Bar_Test<int>::TestBody()")},
                GtestTestRunFrames())),
            TestPart::kBody);
}

TEST(ClassifyTestPartTest, SetUp) {
  const auto frames =
      Concat({Fn("poll"), Fn("Server::WaitReady()", "/src/server.cc", 7),
              Fn("MyFixture::SetUp()", "/src/foo_test.cc", 20)},
             GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kSetUp);
}

TEST(ClassifyTestPartTest, TearDown) {
  const auto frames = Concat(
      {Fn("nanosleep"), Fn("MyFixture::TearDown()", "/src/foo_test.cc", 30)},
      GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kTearDown);
}

TEST(ClassifyTestPartTest, Constructor) {
  const std::vector<SourceFrame> frames = {
      Fn("read"),
      Fn("MyFixture::MyFixture()", "/src/foo_test.cc", 12, true),
      Fn("Foo_Bar_Test::Foo_Bar_Test()", "/src/foo_test.cc", 40),
      Fn("testing::internal::TestFactoryImpl<Foo_Bar_Test>::CreateTest()",
         "/usr/include/gtest/internal/gtest-internal.h", 457),
      Fn("testing::Test* testing::internal::HandleExceptionsInMethodIfSupported"
         "<testing::internal::TestFactoryBase, testing::Test*>(testing::"
         "internal::TestFactoryBase*, testing::Test* (testing::internal::"
         "TestFactoryBase::*)(), char const*)"),
      Fn("testing::TestInfo::Run()"),
      Fn("testing::TestSuite::Run()"),
      Fn("main"),
  };
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kConstructor);
}

TEST(ClassifyTestPartTest, Destructor) {
  const std::vector<SourceFrame> frames = {
      Fn("__lll_lock_wait"),
      Fn("std::thread::join()"),
      Fn("Foo_Bar_Test::~Foo_Bar_Test()", "/src/foo_test.cc", 40),
      Fn("testing::Test::DeleteSelf_()", "/usr/include/gtest/gtest.h", 370,
         true),
      Fn("void testing::internal::HandleExceptionsInMethodIfSupported<testing::"
         "Test, void>(testing::Test*, void (testing::Test::*)(), char const*)"),
      Fn("testing::TestInfo::Run()"),
      Fn("main"),
  };
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kDestructor);
}

TEST(ClassifyTestPartTest, BodyCallingAnotherObjectsSetUpIsStillBody) {
  const auto frames =
      Concat({Fn("pause"), Fn("Database::SetUp()", "/src/db.cc", 5),
              Fn("Helper::TearDown()", "/src/helper.cc", 9),
              Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
             GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kBody);
}

TEST(ClassifyTestPartTest, SetUpCallingATestBodyNamedHelperIsStillSetUp) {
  const auto frames = Concat({Fn("Other_Test::TestBody()", "/src/other.cc", 1),
                              Fn("MyFixture::SetUp()", "/src/foo_test.cc", 20)},
                             GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kSetUp);
}

TEST(ClassifyTestPartTest, BodyCallingBackThroughGoogleTestIsStillBody) {
  // e.g. EXPECT_PRED calling a user predicate that hangs.
  const auto frames = Concat(
      {Fn("IsReady(int)", "/src/foo_test.cc", 3),
       Fn("testing::AssertionResult testing::internal::AssertPred1Helper<bool "
          "(*)(int), int>(char const*, char const*, bool (*)(int), int)"),
       Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
      GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kBody);
}

TEST(ClassifyTestPartTest, UnknownWithoutGoogleTestOrFrames) {
  EXPECT_EQ(ClassifyTestPart({}), TestPart::kUnknown);
  EXPECT_EQ(ClassifyTestPart({Fn("Foo_Bar_Test::TestBody()"), Fn("main")}),
            TestPart::kUnknown);
  EXPECT_EQ(ClassifyTestPart({Fn(""), Fn(""), Fn("")}), TestPart::kUnknown);
}

TEST(ClassifyTestPartTest, UnsymbolizedBodyIsUnknown) {
  // The body frame has no name: guessing would be wrong.
  const auto frames =
      Concat({Fn("__lll_lock_wait"), Fn("")}, GtestTestRunFrames());
  EXPECT_EQ(ClassifyTestPart(frames), TestPart::kUnknown);
}

TEST(TestPartNameTest, Names) {
  EXPECT_STREQ(TestPartName(TestPart::kConstructor), "fixture constructor");
  EXPECT_STREQ(TestPartName(TestPart::kSetUp), "SetUp()");
  EXPECT_STREQ(TestPartName(TestPart::kBody), "test body");
  EXPECT_STREQ(TestPartName(TestPart::kTearDown), "TearDown()");
  EXPECT_STREQ(TestPartName(TestPart::kDestructor), "fixture destructor");
  EXPECT_STREQ(TestPartName(TestPart::kUnknown), "test");
}

// ---- FirstUserFrame ----

TEST(FirstUserFrameTest, SkipsLibcStdGtestAndSystemHeaders) {
  const auto frames = Concat(
      {Fn("__futex_abstimed_wait_common", "", 0),
       Fn("pthread_mutex_lock", "/usr/src/glibc/nptl/pthread_mutex_lock.c", 80),
       Fn("std::mutex::lock()", "/usr/include/c++/12/bits/std_mutex.h", 100),
       Fn("gtest_watchdog_internal::Foo()", "/src/gtest_watchdog/x.cc", 1),
       Fn("LockTwice(std::mutex&)", "/src/foo_test.cc", 17, true),
       Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
      GtestTestRunFrames());
  const SourceFrame* user = FirstUserFrame(frames);
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->function, "LockTwice(std::mutex&)");
  EXPECT_EQ(user->line, 17);
}

TEST(FirstUserFrameTest, NeedsAFile) {
  const auto frames =
      Concat({Fn("NoDebugInfo()"),
              Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
             GtestTestRunFrames());
  const SourceFrame* user = FirstUserFrame(frames);
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->function, "Foo_Bar_Test::TestBody()");
}

TEST(FirstUserFrameTest, NoneInOnlyRuntimeFrames) {
  EXPECT_EQ(FirstUserFrame(GtestTestRunFrames()), nullptr);
  EXPECT_EQ(FirstUserFrame({}), nullptr);
}

// A user function whose name merely contains "_start" is user code; only the
// process entry points (_start, __libc_start_main, ...) are runtime.
TEST(FirstUserFrameTest, UserFunctionContainingStartIsUserCode) {
  const auto frames =
      Concat({Fn("__futex_abstimed_wait_common"),
              Fn("Server::wait_for_start()", "/src/server.cc", 77),
              Fn("Foo_Bar_Test::TestBody()", "/src/foo_test.cc", 42)},
             GtestTestRunFrames());
  const SourceFrame* user = FirstUserFrame(frames);
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->function, "Server::wait_for_start()");
}

// ---- FormatReport ----

class FakeSymbolizer {
 public:
  void Add(uint64_t pc, std::vector<SourceFrame> frames) {
    frames_[pc] = std::move(frames);
  }
  // Like the real one: always at least one frame, unnamed when unknown.
  const std::vector<SourceFrame>& Symbolize(uint64_t pc) {
    const auto it = frames_.find(pc);
    if (it != frames_.end()) return it->second;
    std::vector<SourceFrame>& unknown = frames_[pc];
    unknown.push_back(SourceFrame());
    return unknown;
  }
  SymbolizeFn AsFunction() {
    return [this](uint64_t pc) -> const std::vector<SourceFrame>& {
      return Symbolize(pc);
    };
  }

 private:
  std::map<uint64_t, std::vector<SourceFrame>> frames_;
};

class FormatReportTest : public ::testing::Test {
 protected:
  FormatReportTest() {
    // Test thread stack: pc 0x100 is libc, 0x200 has an inlined frame.
    symbols_.Add(0x100, {Fn("__futex_abstimed_wait_common")});
    symbols_.Add(
        0x200, {Fn("std::mutex::lock()", "/usr/include/c++/12/bits/std_mutex.h",
                   100, true),
                Fn("Foo_Bar_Test::TestBody()", "/src/tests/foo_test.cc", 42)});
    uint64_t pc = 0x1000;
    for (const SourceFrame& f : GtestTestRunFrames()) {
      symbols_.Add(pc, {f});
      gtest_pcs_.push_back(pc++);
    }
    // Blocked thread's kernel-reported pc.
    symbols_.Add(0x300,
                 {Fn("BlockAllSignalsAndWait()", "/src/tests/helpers.cc", 99)});
    // Module-only frame.
    symbols_.Add(0x400, {InModule("", "/opt/lib/libthing.so", 0x1a2b)});

    snap_ = TimeoutSnapshot("Foo.Bar", "Foo", 1'000'000'000, 1'003'000'000);
    snap_.pid = 100;
    snap_.test_tid = 100;
    snap_.watchdog_tid = 102;

    SnapshotThread test = Thread(100, "unit_tests", 'S', StackStatus::kOk);
    InFutex(&test, 0xabc0, 0x80);  // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
    test.kernel_pc = 0x100;
    test.pcs = {0x100, 0x200};
    test.pcs.insert(test.pcs.end(), gtest_pcs_.begin(), gtest_pcs_.end());
    snap_.threads.push_back(test);

    SnapshotThread blocked =
        Thread(101, "blocker thread", 'S', StackStatus::kSignalsBlocked);
    blocked.syscall_nr = 230;
    blocked.kernel_pc = 0x300;
    blocked.wchan = "hrtimer_nanosleep";
    snap_.threads.push_back(blocked);

    SnapshotThread self =
        Thread(102, "gtest_watchdog", 'R', StackStatus::kSelf);
    self.syscall_nr = kSyscallRunning;
    self.kernel_pc = 0x999;  // must not be shown
    snap_.threads.push_back(self);
  }

  std::string Report() { return FormatReport(snap_, symbols_.AsFunction()); }

  // A crash or signal report: `signo` with si_code `code` hit thread `tid`.
  void Signalled(const char* kind, int signo, int code, pid_t tid) {
    snap_.kind = kind;
    snap_.signal.signo = signo;
    snap_.signal.code = code;
    snap_.signal.tid = tid;
  }

  // The lines of the section for thread `tid`, up to the next blank line.
  std::string Section(const std::string& report, pid_t tid) {
    const size_t start = report.find("\nThread " + std::to_string(tid) + " ");
    if (start == std::string::npos) return "";
    const size_t end = report.find("\n\n", start + 1);
    // Keeps the section's last newline.
    return report.substr(
        start + 1, end == std::string::npos ? std::string::npos : end - start);
  }

  FakeSymbolizer symbols_;
  std::vector<uint64_t> gtest_pcs_;
  Snapshot snap_;
};

TEST_F(FormatReportTest, Headline) {
  const std::string report = Report();
  EXPECT_THAT(
      report,
      StartsWith("[ TIMEOUT  ] Foo.Bar: test body still running after "
                 "1.00 s (limit 1 s, from --gtest_watchdog_timeout)\n"));
}

TEST_F(FormatReportTest, HeadlineNamesEachPartOfATest) {
  snap_.threads[0].pcs = {0x500};
  symbols_.Add(0x500, {Fn("Fixture::SetUp()", "/src/f.cc", 1)});
  snap_.threads[0].pcs.insert(snap_.threads[0].pcs.end(), gtest_pcs_.begin(),
                              gtest_pcs_.end());
  EXPECT_THAT(Report(), HasSubstr("Foo.Bar: SetUp() still running"));

  symbols_.Add(0x500, {Fn("Fixture::TearDown()", "/src/f.cc", 1)});
  EXPECT_THAT(Report(), HasSubstr("Foo.Bar: TearDown() still running"));
}

TEST_F(FormatReportTest, HeadlineElapsedAndLimitFormatting) {
  snap_.elapsed_ns = 2'345'678'901;
  snap_.limit_ns = 1'500'000'000;
  snap_.limit_origin = "GTEST_WATCHDOG_TIMEOUT";
  EXPECT_THAT(Report(), HasSubstr("still running after 2.35 s (limit 1.5 s, "
                                  "from GTEST_WATCHDOG_TIMEOUT)"));
}

TEST_F(FormatReportTest, StalledLinePointsAtUserCode) {
  EXPECT_THAT(Report(),
              HasSubstr("[ STALLED  ] thread 100 in "
                        "Foo_Bar_Test::TestBody() at foo_test.cc:42\n"));
}

TEST_F(FormatReportTest, NoStalledLineWithoutUserFrames) {
  snap_.threads[0].pcs = gtest_pcs_;
  EXPECT_THAT(Report(), Not(HasSubstr("[ STALLED  ]")));
}

TEST_F(FormatReportTest, ThreadCensus) {
  EXPECT_THAT(Report(), HasSubstr("[ THREADS  ] 3 threads: 2 sleeping, and the "
                                  "watchdog's own\n"));
}

TEST_F(FormatReportTest, TestThreadIsMarkedAndShowsFrames) {
  const std::string section = Section(Report(), 100);
  EXPECT_THAT(section, StartsWith("Thread 100 \"unit_tests\" [runs Foo.Bar]"));
  EXPECT_THAT(section, HasSubstr("sleeping"));
  // std::mutex::lock() on the stack: a mutex wait (the fixture's futex
  // memory was not read, so the owner is unknown).
  EXPECT_THAT(section, HasSubstr("blocked on mutex 0xabc0, owner unknown"));
  EXPECT_THAT(section, HasSubstr("#0  __futex_abstimed_wait_common\n"));
  EXPECT_THAT(section, HasSubstr("#1  std::mutex::lock() [inlined]  at "
                                 "/usr/include/c++/12/bits/std_mutex.h:100\n"));
  EXPECT_THAT(section, HasSubstr("#2  Foo_Bar_Test::TestBody()  at "
                                 "/src/tests/foo_test.cc:42\n"));
  // GoogleTest's frames below the first one are folded into a count.
  EXPECT_THAT(section, HasSubstr("#3  void testing::internal::"
                                 "HandleExceptionsInMethodIfSupported"));
  EXPECT_THAT(section, HasSubstr("    ... 9 more frames in GoogleTest and "
                                 "main\n"));
  EXPECT_THAT(section, Not(HasSubstr("main.cc:10")));
  EXPECT_THAT(section, Not(HasSubstr("could not be taken")));
  EXPECT_THAT(section, Not(HasSubstr("[gtest_watchdog]")));
}

TEST_F(FormatReportTest, ConditionVariableWait) {
  symbols_.Add(0x700, {Fn("___pthread_cond_wait"),
                       Fn("std::condition_variable::wait(std::unique_lock<std::"
                          "mutex>&)")});
  snap_.threads[0].syscall_args[1] = 0x89;  // FUTEX_WAIT_BITSET | PRIVATE
  snap_.threads[0].pcs = {0x100, 0x700};
  EXPECT_THAT(Section(Report(), 100),
              HasSubstr("waiting on condition variable 0xabc0 (for a notify; "
                        "holds no lock while waiting)"));
}

TEST_F(FormatReportTest, UnknownFutexFallsBackToTheSystemCall) {
  snap_.threads[0].pcs = {0x100};  // no lock function on the stack
  snap_.threads[0].syscall_args[1] = 0x89;
  EXPECT_THAT(
      Section(Report(), 100),
      HasSubstr("futex wait (condition variable, thread join or similar) on "
                "0xabc0"));
}

TEST_F(FormatReportTest, SignalsBlockedThreadShowsKernelPc) {
  const std::string section = Section(Report(), 101);
  EXPECT_THAT(section, StartsWith("Thread 101 \"blocker thread\""));
  EXPECT_THAT(section, Not(HasSubstr("[runs")));
  EXPECT_THAT(section, HasSubstr("in clock_nanosleep()"));
  EXPECT_THAT(section, HasSubstr("(kernel: hrtimer_nanosleep)"));
  EXPECT_THAT(section, HasSubstr("could not be taken"));
  EXPECT_THAT(section, HasSubstr("blocks the signal"));
  EXPECT_THAT(section, HasSubstr("program counter from the kernel"));
  EXPECT_THAT(section, HasSubstr("#0  BlockAllSignalsAndWait()  at "
                                 "/src/tests/helpers.cc:99\n"));
}

TEST_F(FormatReportTest, WatchdogThreadIsMarkedWithoutFrames) {
  const std::string section = Section(Report(), 102);
  // Its own state (busy writing) would mislead: it is named, not described.
  EXPECT_THAT(section, StartsWith("Thread 102 \"gtest_watchdog\" — "
                                  "gtest_watchdog, writing this report\n"));
  EXPECT_THAT(section, Not(HasSubstr("running")));
  EXPECT_THAT(section, Not(HasSubstr("#0")));
}

TEST_F(FormatReportTest, UninterruptibleAndNoAnswerAndExited) {
  SnapshotThread d = Thread(103, "nfs io", 'D', StackStatus::kUninterruptible);
  d.syscall_nr = 0;
  snap_.threads.push_back(d);
  snap_.threads.push_back(Thread(104, "slow", 'S', StackStatus::kNoAnswer));
  SnapshotThread gone = Thread(105, "", '?', StackStatus::kExited);
  gone.kernel_pc = 0x300;  // must not be shown
  snap_.threads.push_back(gone);
  const std::string report = Report();
  EXPECT_THAT(
      Section(report, 103),
      HasSubstr("uninterruptible sleep and cannot run a signal handler"));
  EXPECT_THAT(Section(report, 103), HasSubstr("in read()"));
  EXPECT_THAT(Section(report, 104), HasSubstr("did not answer"));
  EXPECT_THAT(Section(report, 105), HasSubstr("exited"));
  EXPECT_THAT(Section(report, 105), Not(HasSubstr("#0")));
  EXPECT_THAT(report, HasSubstr("[ THREADS  ] 6 threads: 3 sleeping, 1 "
                                "uninterruptible sleep, 1 unknown state, and "
                                "the watchdog's own\n"));
}

TEST_F(FormatReportTest, ModuleOnlyAndUnknownFrames) {
  snap_.threads[0].pcs = {0x400, 0xdead};
  const std::string section = Section(Report(), 100);
  EXPECT_THAT(section, HasSubstr("#0  ??  in libthing.so+0x1a2b\n"));
  EXPECT_THAT(section, HasSubstr("#1  ??\n"));
}

TEST_F(FormatReportTest, UnknownSyscallNumber) {
  snap_.threads[1].syscall_nr = 9999;
  EXPECT_THAT(Section(Report(), 101), HasSubstr("in system call 9999"));
}

TEST_F(FormatReportTest, TruncatedStackIsSaid) {
  snap_.threads[0].truncated = true;
  EXPECT_THAT(Section(Report(), 100), HasSubstr("(deeper frames cut)"));
}

TEST_F(FormatReportTest, SuiteSetUpPhase) {
  snap_.phase_id = "suite-setup";
  snap_.test_name = "";
  const std::string report = Report();
  EXPECT_THAT(report, StartsWith("[ TIMEOUT  ] Foo: SetUpTestSuite() still "
                                 "running after 1.00 s"));
  EXPECT_THAT(report, HasSubstr("[runs suite-setup]"));
}

TEST_F(FormatReportTest, SuiteTearDownPhase) {
  snap_.phase_id = "suite-teardown";
  snap_.test_name = "";
  EXPECT_THAT(Report(), StartsWith("[ TIMEOUT  ] Foo: TearDownTestSuite() "
                                   "still running"));
}

TEST_F(FormatReportTest, EnvironmentPhases) {
  snap_.test_name = "";
  snap_.suite_name = "";
  snap_.phase_id = "environment-setup";
  EXPECT_THAT(Report(), StartsWith("[ TIMEOUT  ] global test environment: "
                                   "SetUp() still running"));
  snap_.phase_id = "environment-teardown";
  EXPECT_THAT(Report(), StartsWith("[ TIMEOUT  ] global test environment: "
                                   "TearDown() still running"));
}

TEST_F(FormatReportTest, TestThreadMissingFromSnapshot) {
  snap_.test_tid = 999;
  const std::string report = Report();
  EXPECT_THAT(report, StartsWith("[ TIMEOUT  ] Foo.Bar: test still running"));
  EXPECT_THAT(report, Not(HasSubstr("[runs")));
  EXPECT_THAT(report, Not(HasSubstr("[ STALLED  ]")));
}

// ---- crashes and signals ----

TEST_F(FormatReportTest, CrashHeadlineNamesTheSignalTheAddressAndTheThread) {
  Signalled("crash", SIGSEGV, SEGV_MAPERR, 100);
  snap_.signal.fault_addr = 0x10;
  snap_.signal.sp = 0x7ffd00000000;
  snap_.elapsed_ns = 250'000'000;
  const std::string report = Report();
  EXPECT_THAT(report,
              StartsWith("[ CRASH    ] Foo.Bar: test body: SIGSEGV (address "
                         "not mapped to object) at address 0x10, 0.25 s into "
                         "it\n[ CRASHED  ] thread 100 \"unit_tests\" in "
                         "Foo_Bar_Test::TestBody() at foo_test.cc:42 "
                         "(innermost: __futex_abstimed_wait_common)\n"));
  // The thread's own line says where it crashed instead of what it waits
  // for (it sits in our handler now), then its frames.
  EXPECT_THAT(
      Section(report, 100),
      StartsWith("Thread 100 \"unit_tests\" [runs Foo.Bar] — crashed "
                 "here: SIGSEGV\n    #0  __futex_abstimed_wait_common"));
  EXPECT_THAT(report, Not(HasSubstr("[ STALLED  ]")));
}

TEST_F(FormatReportTest, CrashInAnotherThreadIsNamedThere) {
  Signalled("crash", SIGFPE, FPE_INTDIV, 101);
  snap_.signal.fault_addr = 0x555;
  const std::string report = Report();
  EXPECT_THAT(report, HasSubstr("SIGFPE (integer divide by zero) at address "
                                "0x555"));
  EXPECT_THAT(report,
              HasSubstr("[ CRASHED  ] thread 101 \"blocker thread\" "
                        "in BlockAllSignalsAndWait() at helpers.cc:99"));
  EXPECT_THAT(Section(report, 101), HasSubstr("crashed here: SIGFPE"));
  // The test thread keeps its usual line.
  EXPECT_THAT(Section(report, 100), HasSubstr("[runs Foo.Bar] — sleeping"));
}

TEST_F(FormatReportTest, StackOverflowIsSaid) {
  Signalled("crash", SIGSEGV, SEGV_MAPERR, 100);
  snap_.signal.sp = 0x7ffd00010000;
  snap_.signal.fault_addr = 0x7ffd0000fff8;
  EXPECT_THAT(Report(), HasSubstr("at address 0x7ffd0000fff8: stack overflow "
                                  "(the address is just below the thread's "
                                  "stack pointer)"));
}

TEST_F(FormatReportTest, SignalFromAnotherProcessNamesTheSenderAndTheTest) {
  Signalled("signal", SIGQUIT, SI_USER, 101);
  snap_.signal.sender_pid = 4321;
  const std::string report = Report();
  EXPECT_THAT(report,
              StartsWith("[ SIGNAL   ] Foo.Bar: test body: SIGQUIT "
                         "(sent by kill()) from pid 4321, 1.00 s into "
                         "it\n[ VERDICT  ] no clear cause: thread 100 "
                         "\"unit_tests\" is blocked on mutex 0xabc0, owner "
                         "unknown, in Foo_Bar_Test::TestBody() at "
                         "foo_test.cc:42; no thread is busy, blocked outside "
                         "the process or in a deadlock\n[ RUNNING  ] thread "
                         "100 in Foo_Bar_Test::TestBody() at "
                         "foo_test.cc:42\n"));
  EXPECT_THAT(Section(report, 101), HasSubstr("interrupted here by SIGQUIT"));
}

TEST_F(FormatReportTest, SignalOutsideAnyTest) {
  Signalled("crash", SIGABRT, SI_TKILL, 100);
  snap_.signal.sender_pid = 100;
  snap_.phase_id = "none";
  snap_.test_name = "";
  const std::string report = Report();
  EXPECT_THAT(report, StartsWith("[ CRASH    ] outside any test: SIGABRT "
                                 "(abort() or raise() in this process) from "
                                 "pid 100 (this process)\n"));
  EXPECT_THAT(report, HasSubstr("[runs the tests]"));
}

TEST_F(FormatReportTest, FailureMessageShowsTheCrashingThread) {
  Signalled("crash", SIGSEGV, SEGV_MAPERR, 101);
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  const std::string message = FormatFailureMessage(Analyze(input));
  EXPECT_THAT(message, StartsWith("gtest_watchdog: Foo.Bar: test body: "
                                  "SIGSEGV"));
  EXPECT_THAT(message, HasSubstr("\nStack trace:\nThread 101 \"blocker "
                                 "thread\", where SIGSEGV hit:\n    #0  "
                                 "BlockAllSignalsAndWait()"));
}

// The headline of a crash names the signal, not the thread or where: the
// crash verdict says both, on the line after it, before "Stack trace:".
TEST_F(FormatReportTest, FailureMessageOfACrashHasTheCrashVerdict) {
  Signalled("crash", SIGSEGV, SEGV_MAPERR, 101);
  snap_.signal.fault_addr = 0x10;
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  const std::string message = FormatFailureMessage(Analyze(input));
  EXPECT_THAT(message,
              StartsWith("gtest_watchdog: Foo.Bar: test body: SIGSEGV "
                         "(address not mapped to object) at address 0x10, "
                         "1.00 s into it\n[ VERDICT  ] crash: thread 101 "
                         "\"blocker thread\" got SIGSEGV in "
                         "BlockAllSignalsAndWait() at helpers.cc:99\n"
                         "Stack trace:\n"));
}

// A signal report's verdict (rule 4) goes after its headline too.
TEST_F(FormatReportTest, FailureMessageOfASignalHasTheVerdict) {
  Signalled("signal", SIGQUIT, SI_USER, 101);
  snap_.signal.sender_pid = 4321;
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  const ReportModel model = Analyze(input);
  ASSERT_EQ(model.verdict.kind, VerdictKind::kNoClearCause);
  EXPECT_THAT(FormatFailureMessage(model),
              StartsWith(absl::StrCat(
                  "gtest_watchdog: Foo.Bar: test body: SIGQUIT (sent by "
                  "kill()) from pid 4321, 1.00 s into it\n[ VERDICT  ] ",
                  model.verdict.text, "\nStack trace:\nThread 100 ")));
}

// A whole-run limit: the headline names what runs now; the verdict follows.
TEST_F(FormatReportTest, FailureMessageOfATotalTimeoutHasTheVerdict) {
  snap_.kind = "total-timeout";
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  const ReportModel model = Analyze(input);
  const std::string message = FormatFailureMessage(model);
  EXPECT_THAT(message, StartsWith("gtest_watchdog: the whole test run still "
                                  "running after 1.00 s (limit 1 s, from "
                                  "--gtest_watchdog_timeout); running now: "
                                  "Foo.Bar: test body\n[ VERDICT  ] no clear "
                                  "cause: "));
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("\n[ VERDICT  ] ", model.verdict.text,
                                     "\nStack trace:\n")));
}

// A model without a verdict (built without the verdict step) has no line.
TEST_F(FormatReportTest, FailureMessageWithoutAVerdictHasNoVerdictLine) {
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  ReportModel model = Analyze(input);
  model.verdict = Verdict();
  const std::string message = FormatFailureMessage(model);
  EXPECT_THAT(message, Not(HasSubstr("VERDICT")));
  EXPECT_THAT(message, HasSubstr("--gtest_watchdog_timeout)\nStack trace:\n"));
}

// ---- the model-based report: groups, locks, deadlocks, children, colour ----

class ModelReportTest : public FormatReportTest {
 protected:
  // Adds `n` threads parked in the same place (one mutex owned by the test
  // thread), tids from `first`.
  void AddParkedThreads(pid_t first, int n, const std::string& name) {
    symbols_.Add(0x500, {Fn("__lll_lock_wait")});
    symbols_.Add(0x510, {Fn("Worker()", "/src/tests/worker.cc", 7)});
    for (int i = 0; i < n; ++i) {
      SnapshotThread t = Thread(first + i, name, 'S', StackStatus::kOk);
      InFutex(&t, 0x7000, 0);
      t.pcs = {0x500, 0x510};
      snap_.threads.push_back(t);
    }
  }

  ReportModel Model() {
    AnalysisInput input;
    input.snapshot = &snap_;
    input.symbolize = symbols_.AsFunction();
    input.external = external_;
    input.children = children_;
    input.ptrace_note = ptrace_note_;
    return Analyze(input);
  }

  std::map<pid_t, ExternalStack> external_;
  std::vector<ChildProcess> children_;
  std::string ptrace_note_;
};

TEST_F(ModelReportTest, IdenticalThreadsPrintOnceWithCountAndIdRanges) {
  AddParkedThreads(200, 1000, "worker");
  const ReportModel model = Model();
  const std::string report = FormatReport(model, FormatOptions());
  EXPECT_THAT(report, HasSubstr("1000 threads with the same stack: 200-1199 "
                                "\"worker\""));
  EXPECT_THAT(report, HasSubstr("; 4 distinct stacks"));
  // One stack printed for the thousand: the report stays short.
  size_t lines = 0;
  for (char c : report) lines += c == '\n';
  EXPECT_LT(lines, 60u) << report;
  size_t worker_frames = 0;
  for (size_t at = report.find("Worker()"); at != std::string::npos;
       at = report.find("Worker()", at + 1)) {
    ++worker_frames;
  }
  EXPECT_EQ(worker_frames, 1u);
}

TEST_F(ModelReportTest, ThreadsWithDifferentStacksAreNotGrouped) {
  AddParkedThreads(200, 3, "worker");
  snap_.threads.back().pcs = {0x500};  // one differs
  const ReportModel model = Model();
  const std::string report = FormatReport(model, FormatOptions());
  EXPECT_THAT(report, HasSubstr("2 threads with the same stack: 200-201"));
  EXPECT_THAT(report, HasSubstr("\nThread 202 \"worker\""));
}

// Same stack, different decoded call (each reads its own pipe) or CPU use:
// each thread says its own.
TEST_F(ModelReportTest, ThreadsWaitingOnDifferentThingsAreNotGrouped) {
  AddParkedThreads(200, 3, "reader");
  for (SnapshotThread& t : snap_.threads) {
    if (t.tid >= 200) t.syscall_nr = SYS_read;
  }
  snap_.threads.back().cpu_ns = 90'000'000;  // and this one is busy
  snap_.threads.back().interval_ns = 100'000'000;
  AnalysisInput input;
  input.snapshot = &snap_;
  input.symbolize = symbols_.AsFunction();
  input.decode_call = [](const SnapshotThread& t) {
    BlockingCall c = UndecodedCall(t);
    c.text = t.tid == 200 ? "read() on fd 3: pipe" : "read() on fd 4: pipe";
    return c;
  };
  const std::string report = FormatReport(Analyze(input), FormatOptions());
  EXPECT_THAT(report, Not(HasSubstr("threads with the same stack")));
  EXPECT_THAT(report, HasSubstr("in read() on fd 3: pipe"));
  EXPECT_THAT(report, HasSubstr("in read() on fd 4: pipe"));
  EXPECT_THAT(report, HasSubstr("\nThread 202 \"reader\" — sleeping, 90% of "
                                "a CPU, in read() on fd 4"));
}

TEST_F(ModelReportTest, TestThreadIsNeverGroupedWithOthers) {
  AddParkedThreads(200, 2, "unit_tests");
  snap_.threads[0].pcs = {0x500, 0x510};  // same stack as the workers
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_THAT(report, HasSubstr("\nThread 100 \"unit_tests\" [runs Foo.Bar]"));
  EXPECT_THAT(report, HasSubstr("2 threads with the same stack: 200-201"));
}

TEST_F(ModelReportTest, DifferentNamesInAGroupAreCounted) {
  AddParkedThreads(200, 2, "a");
  snap_.threads.back().name = "b";
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_THAT(report, HasSubstr("2 threads with the same stack: 200-201 (2 "
                                "different names)"));
}

TEST_F(ModelReportTest, LongIdListsAreCut) {
  AddParkedThreads(200, 1, "w");
  for (int i = 1; i < 100; ++i) {  // every other tid: no ranges
    SnapshotThread t = snap_.threads.back();
    t.tid = 200 + 2 * i;
    snap_.threads.push_back(t);
  }
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_THAT(report, HasSubstr("100 threads with the same stack: 200, 202, "));
  EXPECT_THAT(report, HasSubstr(" and 52 more \"w\""));
}

TEST_F(ModelReportTest, PtraceStackIsUsedAndSaidForSilentThreads) {
  symbols_.Add(0x600, {Fn("BlockedForever()", "/src/tests/blocked.cc", 12)});
  external_[101].pcs = {0x300, 0x600};
  const std::string section =
      Section(FormatReport(Model(), FormatOptions()), 101);
  EXPECT_THAT(section, HasSubstr("stack taken from outside with ptrace"));
  EXPECT_THAT(section, HasSubstr("#1  BlockedForever()  at "
                                 "/src/tests/blocked.cc:12"));
  EXPECT_THAT(section, Not(HasSubstr("program counter from the kernel")));
}

TEST_F(ModelReportTest, PartialPtraceStackIsSaidAndNotGrouped) {
  symbols_.Add(0x600, {Fn("BlockedForever()", "/src/tests/blocked.cc", 12)});
  external_[101].pcs = {0x300, 0x600};
  external_[101].error = "timed out";
  external_[101].truncated = true;
  const std::string section =
      Section(FormatReport(Model(), FormatOptions()), 101);
  EXPECT_THAT(section, HasSubstr("stack taken from outside with ptrace "
                                 "instead, partial: timed out; deeper frames "
                                 "cut)"));
}

TEST_F(ModelReportTest, PtraceFailureIsSaidAndKernelPcKept) {
  external_[101].error = "ptrace not permitted (Yama ptrace_scope 3)";
  ptrace_note_ =
      "2 threads could not be unwound from outside: ptrace not "
      "permitted";
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_THAT(report, HasSubstr("[ WATCHDOG ] 2 threads could not be unwound"));
  const std::string section = Section(report, 101);
  EXPECT_THAT(section, HasSubstr("ptrace could not help: ptrace not permitted "
                                 "(Yama ptrace_scope 3)"));
  EXPECT_THAT(section, HasSubstr("program counter from the kernel:"));
  EXPECT_THAT(section, HasSubstr("BlockAllSignalsAndWait()"));
}

TEST_F(ModelReportTest, ChildProcessesAreListed) {
  children_ = {{4000, 100, 'S', "sleep 30"}, {4001, 4000, 'R', "yes"}};
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_THAT(report, HasSubstr("[ CHILDREN ] 2 child processes of the test "
                                "program, terminated before the abort:\n"));
  EXPECT_THAT(report, HasSubstr("pid 4000 (sleeping): sleep 30\n"));
  EXPECT_THAT(report, HasSubstr("pid 4001 (running, child of 4000): yes\n"));
}

TEST_F(ModelReportTest, NoColourUnlessAsked) {
  const ReportModel model = Model();
  EXPECT_THAT(FormatReport(model, FormatOptions()), Not(HasSubstr("\033[")));
  FormatOptions color;
  color.color = true;
  const std::string report = FormatReport(model, color);
  EXPECT_THAT(report, HasSubstr("\033[1;31m[ TIMEOUT  ]\033[0m Foo.Bar"));
  EXPECT_THAT(report, HasSubstr("\033[1mFoo_Bar_Test::TestBody()"));
}

TEST_F(ModelReportTest, FailureMessageHasHeadlineVerdictAndTestStack) {
  const ReportModel model = Model();
  ASSERT_NE(model.verdict.kind, VerdictKind::kNone);
  const std::string message = FormatFailureMessage(model);
  // What GoogleTest puts in XML's message attribute: what precedes "Stack
  // trace:". The verdict is its second line, as on stderr.
  const std::string summary = message.substr(0, message.find("\nStack trace:"));
  EXPECT_EQ(summary, absl::StrCat("gtest_watchdog: Foo.Bar: test body still "
                                  "running after 1.00 s (limit 1 s, from "
                                  "--gtest_watchdog_timeout)\n[ VERDICT  ] ",
                                  model.verdict.text));
  EXPECT_THAT(message, HasSubstr(absl::StrCat(model.verdict.text,
                                              "\nStack trace:\nThread 100 "
                                              "\"unit_tests\"")));
  EXPECT_THAT(message, HasSubstr("Foo_Bar_Test::TestBody()  at "
                                 "/src/tests/foo_test.cc:42"));
  // Only the test thread's stack (the verdict may name other threads).
  EXPECT_THAT(message.substr(summary.size()), Not(HasSubstr("blocker thread")));
}

// ---- text from outside the watchdog is escaped ----

// True when `report` can reach a terminal safely: newlines (ours) and
// backslashes (escapes) aside, only what EscapeText would leave as it is.
bool OnlySafeBytes(const std::string& report) {
  size_t i = 0;
  while (i < report.size()) {
    if (report[i] == '\n' || report[i] == '\\') {
      ++i;
      continue;
    }
    const size_t keep = ShownAsIs(report.data() + i, report.size() - i);
    if (keep == 0) {
      ADD_FAILURE() << "raw byte 0x" << std::hex
                    << static_cast<int>(static_cast<unsigned char>(report[i]))
                    << " at " << std::dec << i << " in:\n"
                    << EscapeText(report);
      return false;
    }
    i += keep;
  }
  return true;
}

// A thread name set to an escape sequence, \r, \n, a C1 CSI (as UTF-8 and
// as a bare byte) and invalid UTF-8; another name in valid UTF-8.
constexpr char kHostileName[] =
    "\x1b[31mX\r\n\x9b"
    "2J\xc2\x9b\xff";
constexpr char kHostileNameShown[] = "\\x1b[31mX\\r\\n\\x9b2J\\xc2\\x9b\\xff";
constexpr char kUtf8Name[] = "caf\xc3\xa9 \xe6\x97\xa5";

class HostileTextTest : public ModelReportTest {
 protected:
  HostileTextTest() {
    snap_.threads[0].name = kUtf8Name;
    snap_.threads[1].name = kHostileName;
    children_ = {{4000, 100, 'S',
                  "sh -c \x1b]0;title\x07\r\n[ VERDICT  ] forged \xc2\x85"}};
  }

  // The model, with thread 101's system call decoded to a read of a FIFO
  // whose name holds a forged report line.
  ReportModel HostileModel() {
    AnalysisInput input;
    input.snapshot = &snap_;
    input.symbolize = symbols_.AsFunction();
    input.children = children_;
    input.decode_call = [](const SnapshotThread& t) {
      BlockingCall c = UndecodedCall(t);
      if (t.tid == 101) {
        c.text = "read() on fd 3: fifo /tmp/q\r\n[ VERDICT  ] forged\x1b[2K";
      }
      return c;
    };
    return Analyze(input);
  }
};

TEST_F(HostileTextTest, ThreadNamesAreEscapedAndUtf8Kept) {
  const std::string report = FormatReport(HostileModel(), FormatOptions());
  EXPECT_TRUE(OnlySafeBytes(report));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\nThread 101 \"",
                                             kHostileNameShown, "\" — ")));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\nThread 100 \"", kUtf8Name,
                                             "\" [runs Foo.Bar]")));
}

TEST_F(HostileTextTest, CommandLinesAndPathsAreEscaped) {
  const std::string report = FormatReport(HostileModel(), FormatOptions());
  EXPECT_TRUE(OnlySafeBytes(report));
  EXPECT_THAT(report,
              HasSubstr("pid 4000 (sleeping): sh -c \\x1b]0;title\\x07\\r\\n"
                        "[ VERDICT  ] forged \\xc2\\x85\n"));
  EXPECT_THAT(report, HasSubstr("in read() on fd 3: fifo /tmp/q\\r\\n"
                                "[ VERDICT  ] forged\\x1b[2K"));
  // No line of the report is one the names forged.
  EXPECT_THAT(report, Not(HasSubstr("\n[ VERDICT  ] forged")));
}

TEST_F(HostileTextTest, GroupedNamesAreEscaped) {
  AddParkedThreads(200, 3, kHostileName);
  const std::string report = FormatReport(Model(), FormatOptions());
  EXPECT_TRUE(OnlySafeBytes(report));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("3 threads with the same stack: "
                                             "200-202 \"",
                                             kHostileNameShown, "\"")));
}

TEST_F(HostileTextTest, CrashLineAndFailureMessageAreEscaped) {
  Signalled("crash", SIGSEGV, SEGV_MAPERR, 101);
  const ReportModel model = HostileModel();
  const std::string report = FormatReport(model, FormatOptions());
  EXPECT_TRUE(OnlySafeBytes(report));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("[ CRASHED  ] thread 101 \"",
                                             kHostileNameShown, "\" in ")));
  const std::string message = FormatFailureMessage(model);
  EXPECT_TRUE(OnlySafeBytes(message));
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("\nThread 101 \"", kHostileNameShown,
                                     "\", where SIGSEGV hit:\n")));
}

// The verdict in the failure message names threads and decoded calls:
// escaped as in the report, it stays one line and forges no line of its
// own, not even the "Stack trace:" marker GoogleTest cuts the message at.
TEST_F(HostileTextTest, FailureMessageVerdictIsEscaped) {
  snap_.threads[0].name = kHostileName;
  ReportModel model = HostileModel();
  model.verdict.kind = VerdictKind::kBlocked;
  model.verdict.text = absl::StrCat(
      "blocked: thread 100 \"", kHostileName,
      "\" waits in read() on fd 3: fifo /tmp/q\r\nStack trace:\n\x1b[2K");
  const std::string message = FormatFailureMessage(model);
  EXPECT_TRUE(OnlySafeBytes(message));
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("\n[ VERDICT  ] blocked: thread 100 \"",
                                     kHostileNameShown,
                                     "\" waits in read() on fd 3: fifo "
                                     "/tmp/q\\r\\nStack trace:\\n"
                                     "\\x1b[2K\nStack trace:\n")));
  // One marker only: GoogleTest's summary ends after the verdict.
  EXPECT_EQ(message.find("\nStack trace:\n"),
            message.rfind("\nStack trace:\n"));
}

TEST_F(HostileTextTest, FailureMessageOfAStallEscapesTheTestThreadName) {
  snap_.threads[0].name = kHostileName;
  const std::string message = FormatFailureMessage(HostileModel());
  EXPECT_TRUE(OnlySafeBytes(message));
  EXPECT_THAT(message,
              HasSubstr(absl::StrCat("\nThread 100 \"", kHostileNameShown,
                                     "\", which runs the test:\n")));
}

// With colour on, our own codes are the only escape sequences.
TEST_F(HostileTextTest, ColourCodesAreTheOnlyEscapeSequences) {
  FormatOptions color;
  color.color = true;
  std::string report = FormatReport(HostileModel(), color);
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\033[1mThread 101 \"",
                                             kHostileNameShown, "\"\033[0m")));
  for (const char* ours : {"\033[1;31m", "\033[32m", "\033[33m", "\033[1m",
                           "\033[2m", "\033[0m"}) {
    for (size_t at = report.find(ours); at != std::string::npos;
         at = report.find(ours)) {
      report.erase(at, strlen(ours));
    }
  }
  EXPECT_TRUE(OnlySafeBytes(report));
}

}  // namespace
}  // namespace gtest_watchdog_internal
