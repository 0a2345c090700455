// Runs tests/programs/verdict_program scenarios as child processes and
// checks the verdict: the "[ VERDICT  ]" line right after the "[ TIMEOUT  ]"
// headline that says in one sentence why the test is stuck (deadlock, busy,
// blocked, waiting for a notify, polling, no clear cause), following
// the test thread's chain of waits to its end and pointing at the user's
// code there. Also checks that each thread's header decodes what its
// blocking system call waits for: the TCP socket's two addresses, a pipe,
// the child process wait4() waits for, and the CPU share of a busy thread.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kVerdictTag[] = "[ VERDICT  ] ";
constexpr char kContinuation[] = "             ";  // 13 spaces

constexpr SourceMarkers Where(VERDICT_SOURCE);

ChildResult RunVerdict(const std::string& test) {
  return RunStalling(VERDICT_PROGRAM, "Verdict." + test);
}

// The verdict block: the "[ VERDICT  ]" line and the lines after it that
// start with 13 spaces, joined by '\n'. Empty without a verdict. Expects
// the verdict to come right after the "[ TIMEOUT  ]" headline.
std::string VerdictBlock(const std::string& err) {
  const std::vector<std::string> lines = Lines(err);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(kVerdictTag, 0) != 0) continue;
    EXPECT_TRUE(i > 0 && lines[i - 1].rfind("[ TIMEOUT  ] ", 0) == 0)
        << "the verdict is not the line after the headline:\n"
        << err;
    std::string block = lines[i];
    for (size_t j = i + 1;
         j < lines.size() && lines[j].rfind(kContinuation, 0) == 0; ++j) {
      block += "\n" + lines[j];
    }
    return block;
  }
  return "";
}

// The header of the thread running Verdict.`test`.
std::string TestThreadHeader(const std::string& err, const std::string& test) {
  return ThreadHeader(err, "[runs Verdict." + test + "]");
}

// The number printed after `prefix` on one of the program's lines, or "".
std::string NumberAfter(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  const size_t start = at + prefix.size();
  size_t end = start;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  return text.substr(start, end - start);
}

TEST(Verdict, RecvFromASilentServerNamesTheSocket) {
  const ChildResult r = RunVerdict("RecvFromSilentServer");
  const std::string port = NumberAfter(r.err, "verdict_program: server port ");
  ASSERT_FALSE(port.empty()) << r.err;
  const std::string header = TestThreadHeader(r.err, "RecvFromSilentServer");
  ASSERT_FALSE(header.empty()) << r.err;
  // "in recvfrom() on fd 5: TCP socket 127.0.0.1:40112 → 127.0.0.1:5555
  // (established)".
  EXPECT_THAT(header, ContainsRegex("in recvfrom\\(\\) on fd [0-9]+: TCP "
                                    "socket 127\\.0\\.0\\.1:[0-9]+ → "
                                    "127\\.0\\.0\\.1:" +
                                    port + " \\(established\\)"))
      << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict, ContainsRegex("thread [0-9]+ \"[^\"]+\" waits in "
                                     "recvfrom\\(\\) on fd [0-9]+: TCP socket"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("127.0.0.1:" + port)) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("recv"))) << r.err;
}

TEST(Verdict, PipeReadNamesThePipe) {
  const ChildResult r = RunVerdict("PipeRead");
  const std::string header = TestThreadHeader(r.err, "PipeRead");
  ASSERT_FALSE(header.empty()) << r.err;
  EXPECT_THAT(header, ContainsRegex("in read\\(\\) on fd [0-9]+: [^\n]*pipe"))
      << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("read()")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("pipe")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("pipe"))) << r.err;
}

TEST(Verdict, WaitForAChildNamesTheChild) {
  const ChildResult r = RunVerdict("WaitForSleepingChild");
  const std::string pid =
      NumberAfter(r.out + r.err, "verdict_program: child pid ");
  ASSERT_FALSE(pid.empty()) << r.out << r.err;
  const std::string header = TestThreadHeader(r.err, "WaitForSleepingChild");
  ASSERT_FALSE(header.empty()) << r.err;
  // "in wait4() for child pid 777 (sleep 1000; sleeping)".
  EXPECT_THAT(header, HasSubstr("in wait4() for child pid " + pid + " ("))
      << r.err;
  EXPECT_THAT(header, HasSubstr("sleep 1000")) << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("wait4()")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("child pid " + pid)) << r.err;
  EXPECT_THAT(verdict, HasSubstr("sleep 1000")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("waitpid"))) << r.err;
}

TEST(Verdict, SpinningThreadIsBusy) {
  const ChildResult r = RunVerdict("Spin");
  const std::string header = TestThreadHeader(r.err, "Spin");
  ASSERT_FALSE(header.empty()) << r.err;
  EXPECT_THAT(header, ContainsRegex("— running, [0-9]+% of a CPU")) << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] busy: thread ")) << r.err;
  // "(99% of a CPU over 250 ms)", on a loaded machine "(40% of a CPU over
  // 250 ms, and 58% waiting for one)".
  EXPECT_THAT(verdict, ContainsRegex("is running, not waiting \\([0-9]+% of "
                                     "a CPU over [0-9.]+ m?s[,)]"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("SpinForever")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("spin"))) << r.err;
}

TEST(Verdict, TwoThreadDeadlockNamesBothThreads) {
  const ChildResult r = RunVerdict("TwoThreadDeadlock");
  const std::string first = TidOf(r.err, "first");
  const std::string second = TidOf(r.err, "second");
  ASSERT_FALSE(first.empty()) << r.err;
  ASSERT_FALSE(second.empty()) << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] deadlock: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("thread " + first + " \"first\"")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("thread " + second + " \"second\"")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" each hold a lock the other waits for: "))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("g_first")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("g_second")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("deadlock"))) << r.err;
  // How the test gets there: it joins one of them.
  EXPECT_THAT(verdict, ContainsRegex("waits to join thread (" + first + "|" +
                                     second + ")"))
      << r.err;
}

TEST(Verdict, SemaphoreNobodyPostsHasNoClearCause) {
  const ChildResult r = RunVerdict("SemaphoreNobodyPosts");
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] no clear cause: ")) << r.err;
  EXPECT_THAT(verdict, ContainsRegex("thread [0-9]+ \"[^\"]+\"")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("semaphore"))) << r.err;
}

TEST(Verdict, MutexHeldByAReaderFollowsTheChainToThePipe) {
  const ChildResult r = RunVerdict("MutexHeldByReader");
  const std::string io = TidOf(r.err, "io");
  ASSERT_FALSE(io.empty()) << r.err;
  const std::string header = ThreadHeader(r.err, "Thread " + io + " \"io\"");
  EXPECT_THAT(header, ContainsRegex("in read\\(\\) on fd [0-9]+: [^\n]*pipe"))
      << r.err;
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  // "waits for mutex g_io (0x...) held by thread W "io", which waits in
  // read() on fd 7: pipe (...)".
  EXPECT_THAT(verdict, HasSubstr("g_io")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("held by thread " + io + " \"io\"")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("read()")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("pipe")) << r.err;
  // The chain ends at the io thread: its code, not the test's.
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("io_read"))) << r.err;
}

// It wakes up 500 times a second in the same spot, and nothing else runs.
TEST(Verdict, LoopOfShortSleepsIsPolling) {
  const ChildResult r = RunVerdict("ShortSleepsForever");
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] polling: ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("in the same spot")) << r.err;
  EXPECT_THAT(verdict, ContainsRegex("thread [0-9]+ \"[^\"]+\"")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("short_sleeps"))) << r.err;
}

TEST(Verdict, ConditionNobodyNotifiesWaitsForANotify) {
  const ChildResult r = RunVerdict("ConditionNobodyNotifies");
  const std::string verdict = VerdictBlock(r.err);
  ASSERT_FALSE(verdict.empty()) << r.err;
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] waiting for a notify: thread "))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("condition variable")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("condvar"))) << r.err;
}

// SIGQUIT from outside (CTest's TIMEOUT_SIGNAL_NAME) while the test waits
// in recv(): the thread sits in our handler, yet the verdict still names
// the call the signal interrupted, from the saved registers.
TEST(Verdict, SignalFromOutsideStillNamesTheInterruptedCall) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer defers an asynchronous signal until the thread comes
  // back into its runtime, which a thread blocked in recv() never does.
  GTEST_SKIP() << "ThreadSanitizer never delivers SIGQUIT to a thread in recv";
#endif
  const ChildResult r = RunChildAndSignal(
      {VERDICT_PROGRAM, "--gtest_filter=Verdict.RecvUntilSignalled",
       "--gtest_watchdog_timeout=60s"},
      {}, "verdict_program: in recv", SIGQUIT);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << r.err;
  EXPECT_EQ(r.signal, SIGQUIT) << r.err;
  EXPECT_LT(r.seconds, kSlack) << r.err;
  const std::string port = NumberAfter(r.err, "verdict_program: server port ");
  ASSERT_FALSE(port.empty()) << r.err;
  const std::vector<std::string> lines = Lines(r.err);
  std::string verdict;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].rfind(kVerdictTag, 0) == 0) {
      EXPECT_EQ(lines[i - 1].rfind("[ SIGNAL   ] ", 0), 0u) << r.err;
      verdict = lines[i];
    }
  }
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict,
              HasSubstr("was waiting, when SIGQUIT came, in recvfrom() on fd "))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("127.0.0.1:" + port)) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Where("recv2"))) << r.err;
  // The thread's own entry says it too.
  EXPECT_THAT(TestThreadHeader(r.err, "RecvUntilSignalled"),
              HasSubstr("interrupted here by SIGQUIT, in recvfrom() on fd "))
      << r.err;
}

// The JSON report carries the verdict and the decoded socket, and is valid
// against the documented schema.
TEST(Verdict, JsonReportCarriesTheVerdictAndTheSocket) {
  if (std::string(PYTHON3).empty()) GTEST_SKIP() << "python3 not found";
  const std::string path = testing::TempDir() + "verdict_report_" +
                           std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ChildResult r = RunChild(
      {VERDICT_PROGRAM, "--gtest_filter=Verdict.RecvFromSilentServer",
       "--gtest_watchdog_timeout=1s", "--gtest_watchdog_report=" + path});
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  const std::string port = NumberAfter(r.err, "verdict_program: server port ");
  ASSERT_FALSE(port.empty()) << r.err;
  const ChildResult v = RunChild(
      {PYTHON3, VALIDATE_JSON_REPORT, REPORT_SCHEMA, path, "--expect",
       "verdict.kind=blocked", "--expect",
       "verdict.where.line=" +
           std::to_string(MarkerLine(VERDICT_SOURCE, "recv")),
       "--expect", "threads.0.role=test", "--expect",
       "threads.0.blocked_in.kind=fd", "--expect",
       "threads.0.blocked_in.fds.0.kind=tcp", "--expect",
       "threads.0.blocked_in.fds.0.remote=127.0.0.1:" + port, "--expect",
       "threads.0.blocked_in.fds.0.peer_not_accepted=true"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gtest_watchdog_test
