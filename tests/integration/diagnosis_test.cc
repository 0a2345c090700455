// Runs tests/programs/diagnosis_program scenarios as child processes and
// checks that the report says why the test is stuck: which thread holds the
// lock another waits for, deadlock cycles, condition-variable waits that are
// not deadlocks, stacks of threads that answer no signal (unwound from
// outside), child processes listed and terminated, and the JSON report
// valid against its documented schema.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
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

constexpr SourceMarkers Where(DIAGNOSIS_SOURCE);

ChildResult RunDiagnosis(const std::string& test,
                         const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {DIAGNOSIS_PROGRAM,
                                   "--gtest_filter=Diagnosis." + test,
                                   "--gtest_watchdog_timeout=1s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const ChildResult r = RunChild(argv);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 1 + kSlack);
  EXPECT_THAT(r.err, HasSubstr("[ ABORT    ] gtest_watchdog aborts"));
  return r;
}

// The "[ DEADLOCK ]" block: its first line and the indented lines after it.
std::string DeadlockBlock(const std::string& err) {
  const size_t start = err.find("[ DEADLOCK ]");
  if (start == std::string::npos) return "";
  size_t end = start;
  do {
    end = err.find('\n', end + 1);
  } while (end != std::string::npos && end + 1 < err.size() &&
           err.compare(end + 1, 13, "             ") == 0);
  return err.substr(
      start, end == std::string::npos ? std::string::npos : end - start + 1);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(Diagnosis, TwoThreadDeadlockNamesBothThreadsAndLocks) {
  const ChildResult r = RunDiagnosis("TwoThreadCycle");
  const std::string block = DeadlockBlock(r.err);
  ASSERT_FALSE(block.empty()) << r.err;
  // "thread A "name" waits for mutex g_first (0x...) held by thread B".
  EXPECT_EQ(Count(block, " waits for mutex "), 2u) << block;
  EXPECT_THAT(block, HasSubstr("g_first (0x"));
  EXPECT_THAT(block, HasSubstr("g_second (0x"));
  // The first edge's two thread ids (not <regex>: GCC 12 warns inside it
  // under the sanitizers).
  const size_t first = block.find("thread ");
  const size_t held = block.find(" held by thread ");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(held, std::string::npos) << block;
  const std::string a =
      block.substr(first + 7, block.find(' ', first + 7) - first - 7);
  const size_t b_at = held + sizeof(" held by thread ") - 1;
  const std::string b = block.substr(b_at, block.find(' ', b_at) - b_at);
  EXPECT_NE(a, b);
  // B waits for a lock A holds: the cycle closes.
  EXPECT_THAT(block, ContainsRegex("thread " + b +
                                   " \"[^\"]*\" waits for "
                                   "mutex [^\n]* held by thread " +
                                   a));
  // Each thread's own entry says what it is blocked on and who owns it.
  EXPECT_THAT(r.err, ContainsRegex("Thread " + a +
                                   " \"[^\"]*\" — sleeping, "
                                   "blocked on mutex [^\n]*, owned by "
                                   "thread " +
                                   b));
  EXPECT_THAT(r.err, HasSubstr(Where("cycle")));
}

TEST(Diagnosis, ThreeThreadDeadlockIsOneCycle) {
  const ChildResult r = RunDiagnosis("ThreeThreadCycle");
  const std::string block = DeadlockBlock(r.err);
  ASSERT_FALSE(block.empty()) << r.err;
  EXPECT_EQ(Count(r.err, "[ DEADLOCK ]"), 1u);
  EXPECT_EQ(Count(block, " waits for mutex "), 3u) << block;
  for (const char* lock : {"g_first", "g_second", "g_third"}) {
    EXPECT_THAT(block, HasSubstr(lock)) << block;
  }
}

TEST(Diagnosis, ConditionVariableWaitIsNotCalledADeadlock) {
  const ChildResult r = RunDiagnosis("ConditionVariableWaitIsNotADeadlock");
  EXPECT_THAT(r.err, Not(HasSubstr("[ DEADLOCK ]")));
  EXPECT_THAT(r.err, HasSubstr("waiting on condition variable"));
  EXPECT_THAT(r.err, HasSubstr(Where("condvar")));
}

TEST(Diagnosis, WriterWaitingForARwlockNamesTheWriterHoldingIt) {
  const ChildResult r = RunDiagnosis("WriterWaitsForAWriter");
  EXPECT_THAT(r.err, ContainsRegex("waiting to write-lock rwlock [^\n]*, held "
                                   "for writing by thread [0-9]+"));
  EXPECT_THAT(r.err, Not(HasSubstr("[ DEADLOCK ]")));
}

TEST(Diagnosis, ThreadBlockingEverySignalIsUnwoundFromOutside) {
  const ChildResult r = RunDiagnosis("DeafThreadStillGetsItsStack");
  EXPECT_THAT(r.err, HasSubstr("\"deaf_worker\""));
  EXPECT_THAT(r.err, HasSubstr("stack taken from outside with ptrace"));
  EXPECT_THAT(r.err, HasSubstr("DeafBlockedForever("));
  EXPECT_THAT(r.err, HasSubstr(Where("deaf")));
  // And it waits for a mutex the test thread owns.
  EXPECT_THAT(r.err, ContainsRegex("\"deaf_worker\" — sleeping, blocked on "
                                   "mutex [^\n]*g_first[^\n]*, owned by "
                                   "thread [0-9]+"));
}

TEST(Diagnosis, ChildProcessesAreListedAndDoNotOutliveTheTestBinary) {
  const ChildResult r = RunDiagnosis("ChildProcessesAreListedAndTerminated");
  EXPECT_THAT(r.err, HasSubstr("[ CHILDREN ] 3 child processes of the test "
                               "program, terminated before the abort:"));
  EXPECT_THAT(r.err, ContainsRegex("pid [0-9]+ \\(sleeping\\): sleep 300\n"));
  EXPECT_THAT(r.err, ContainsRegex("pid [0-9]+ \\(sleeping, child of "
                                   "[0-9]+\\): sleep 301\n"));
  std::vector<pid_t> pids;
  std::istringstream out(r.out);
  std::string word;
  while (out >> word) {
    if (word == "child" || word == "grandchild") {
      int pid = 0;
      if (out >> pid) pids.push_back(pid);
    }
  }
  ASSERT_EQ(pids.size(), 3u) << r.out;
  for (pid_t pid : pids)
    EXPECT_TRUE(StopsRunningWithin(pid, 5)) << "pid " << pid;
}

TEST(Diagnosis, TestWaitingForAChildStaysStuckUntilTheOutputIsWritten) {
  const std::string xml = testing::TempDir() + "diagnosis_waitpid_" +
                          std::to_string(getpid()) + ".xml";
  std::remove(xml.c_str());
  const ChildResult r =
      RunDiagnosis("WaitsForAHangingChild:Diagnosis.RunsAfterTheStall",
                   {"--gtest_output=xml:" + xml});
  EXPECT_THAT(r.out, Not(HasSubstr("the test woke up")));
  EXPECT_THAT(r.out,
              Not(HasSubstr("[ RUN      ] Diagnosis.RunsAfterTheStall")));
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] " + xml + " written"));
  EXPECT_THAT(r.err, HasSubstr("[ CHILDREN ] 1 child process"));
  std::ifstream in(xml);
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text,
              ContainsRegex("name=\"WaitsForAHangingChild\"[^>]*>\\s*"
                            "<failure message=\"[^\"]*gtest_watchdog: "
                            "Diagnosis.WaitsForAHangingChild: test body"));
  EXPECT_THAT(text, ContainsRegex("name=\"RunsAfterTheStall\"[^>]*status="
                                  "\"notrun\""));
  std::istringstream out(r.out);
  std::string word;
  int pid = 0;
  while (out >> word) {
    if (word == "child") out >> pid;
  }
  ASSERT_GT(pid, 0) << r.out;
  EXPECT_TRUE(StopsRunningWithin(pid, 5)) << "pid " << pid;
  std::remove(xml.c_str());
}

TEST(Diagnosis, ColoursOnlyWhenAsked) {
  // Piped (as here): plain text.
  EXPECT_THAT(RunDiagnosis("TwoThreadCycle").err, Not(HasSubstr("\033[")));
  // --gtest_color=yes (also GTEST_COLOR=yes) asks for colour, even piped.
  EXPECT_THAT(RunDiagnosis("TwoThreadCycle", {"--gtest_color=yes"}).err,
              HasSubstr("\033[1;31m[ DEADLOCK ]\033[0m thread"));
  const ChildResult env =
      RunChild({DIAGNOSIS_PROGRAM, "--gtest_filter=Diagnosis.TwoThreadCycle",
                "--gtest_watchdog_timeout=1s"},
               {"GTEST_COLOR=yes"});
  EXPECT_THAT(env.err, HasSubstr("\033[1;31m[ TIMEOUT  ]\033[0m"));
}

TEST(Diagnosis, JsonReportValidatesAgainstItsSchemaAndCarriesTheCycle) {
  if (std::string(PYTHON3).empty()) GTEST_SKIP() << "python3 not found";
  const std::string path = testing::TempDir() + "diagnosis_report_" +
                           std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ChildResult r =
      RunDiagnosis("TwoThreadCycle", {"--gtest_watchdog_report=" + path});
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] JSON report written to " + path));
  const ChildResult v =
      RunChild({PYTHON3, VALIDATE_JSON_REPORT, REPORT_SCHEMA, path, "--expect",
                "kind=timeout", "--expect", "test=Diagnosis.TwoThreadCycle"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  std::ifstream in(path);
  const std::string json((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(json, HasSubstr("\"deadlocks\""));
  EXPECT_THAT(json, HasSubstr("g_first"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gtest_watchdog_test
