// File: tests/integration/sync_wait_test.cc
//
// Runs tests/programs/sync_wait_program (Abseil) and sync_wait_cxx20_program
// (C++20) stalls as child processes and checks that the report names the
// primitive a thread waits on, the variable, and what it still waits for,
// both in the test thread's header and in the verdict: an event or
// condition nothing will signal is "waiting for a notify", an absl::Mutex
// held by a thread blocked in read() leads the chain to that thread.
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
using ::testing::StartsWith;

constexpr SourceMarkers Abseil(SYNC_WAIT_SOURCE);
constexpr SourceMarkers Cxx20(SYNC_WAIT_CXX20_SOURCE);

ChildResult RunStall(const char* program, const std::string& filter) {
  return RunStalling(program, filter);
}

struct Case {
  const char* program;
  const SourceMarkers* markers;
  const char* test;    // Suite.Name
  const char* marker;  // where the test thread waits
  const char* waits;   // the wait in words, header and verdict alike
  const char* still;   // what it still waits for, after the address
};

void ExpectWaitingForANotify(const Case& c) {
  const ChildResult r = RunStall(c.program, c.test);
  const std::string header =
      ThreadHeader(r.err, std::string("[runs ") + c.test);
  EXPECT_THAT(header, HasSubstr(c.waits)) << r.err;
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] waiting for a notify: thread "))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr(c.waits)) << r.err;
  EXPECT_THAT(verdict, HasSubstr(c.still)) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + (*c.markers)(c.marker))) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("no lock with a known owner"))) << r.err;
}

TEST(AbseilWaitReport, NotificationNeverNotified) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_PROGRAM, &Abseil, "SyncWait.NotificationNeverNotified",
       "notification", "absl::Notification (anonymous namespace)::g_ready (0x",
       "), which no thread has notified, in "});
}

TEST(AbseilWaitReport, BlockingCounterNeverZero) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_PROGRAM, &Abseil, "SyncWait.BlockingCounterNeverZero",
       "counter", "absl::BlockingCounter (anonymous namespace)::g_pending (0x",
       "), whose count has not reached zero, in "});
}

TEST(AbseilWaitReport, BarrierMissingAParty) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_PROGRAM, &Abseil, "SyncWait.BarrierMissingAParty", "barrier",
       "absl::Barrier (anonymous namespace)::g_start_line (0x",
       "), which not all of its threads have reached, in "});
}

TEST(AbseilWaitReport, CondVarNeverSignalled) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_PROGRAM, &Abseil, "SyncWait.CondVarNeverSignalled", "condvar",
       "absl::CondVar (anonymous namespace)::g_queue_cv (0x", "), in "});
}

TEST(AbseilWaitReport, LockWhenNeverTrue) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_PROGRAM, &Abseil, "SyncWait.LockWhenNeverTrue", "lock_when",
       "for a Condition on absl::Mutex (anonymous namespace)::g_state_mu (0x",
       "), in "});
}

TEST(AbseilWaitReport, LockWhenWithTimeoutSaysSo) {
  const ChildResult r =
      RunStall(SYNC_WAIT_PROGRAM, "SyncWait.LockWhenWithTimeoutNeverTrue");
  const std::string header =
      ThreadHeader(r.err, "[runs SyncWait.LockWhenWithTimeoutNeverTrue");
  EXPECT_THAT(header, HasSubstr("for a Condition on absl::Mutex "
                                "(anonymous namespace)::g_state_mu (0x"))
      << r.err;
  EXPECT_THAT(header, HasSubstr("with a timeout")) << r.err;
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, HasSubstr("g_state_mu")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("with a timeout")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Abseil("timed"))) << r.err;
}

// The owner of an absl::Mutex comes from Abseil's own bookkeeping (Debian
// builds it in debug mode): the chain goes on to the thread in read().
TEST(AbseilWaitReport, MutexHeldByAReaderFollowsTheChainToThePipe) {
  if (kTsan) {
    GTEST_SKIP() << "under ThreadSanitizer Abseil's lock owners are not found "
                    "(its debug bookkeeping is not where the report looks)";
  }
  const ChildResult r =
      RunStall(SYNC_WAIT_PROGRAM, "SyncWait.MutexHeldByReader");
  const std::string io = TidOf(r.err, "io");
  ASSERT_FALSE(io.empty()) << r.err;
  const std::string header =
      ThreadHeader(r.err, "[runs SyncWait.MutexHeldByReader");
  EXPECT_THAT(header, HasSubstr("blocked on absl::Mutex (anonymous "
                                "namespace)::g_io (0x"))
      << r.err;
  EXPECT_THAT(header, HasSubstr("owned by thread " + io + " \"io\"")) << r.err;
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict, ContainsRegex("waits for absl::Mutex \\(anonymous "
                                     "namespace\\)::g_io \\(0x[0-9a-f]+\\) "
                                     "held by thread " +
                                     io + " \"io\", which waits in read\\(\\)"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr("pipe")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Abseil("io_read"))) << r.err;
}

// Owners from Abseil's bookkeeping close the cycle: a deadlock verdict.
TEST(AbseilWaitReport, OppositeOrderIsADeadlock) {
  if (kTsan) {
    GTEST_SKIP() << "under ThreadSanitizer Abseil's lock owners are not found "
                    "(its debug bookkeeping is not where the report looks)";
  }
  const ChildResult r =
      RunStall(SYNC_WAIT_PROGRAM, "SyncWait.OppositeOrderDeadlock");
  const std::string first = TidOf(r.err, "first");
  const std::string second = TidOf(r.err, "second");
  ASSERT_FALSE(first.empty()) << r.err;
  ASSERT_FALSE(second.empty()) << r.err;
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] deadlock: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr(" each hold a lock the other waits for: "))
      << r.err;
  EXPECT_THAT(verdict,
              HasSubstr("absl::Mutex (anonymous namespace)::g_first_mu"))
      << r.err;
  EXPECT_THAT(verdict,
              HasSubstr("absl::Mutex (anonymous namespace)::g_second_mu"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Abseil("abba"))) << r.err;
  EXPECT_THAT(ThreadHeader(r.err, "Thread " + first + " \"first\""),
              HasSubstr("owned by thread " + second + " \"second\""))
      << r.err;
}

// The JSON report says the same: wait kind "event", the primitive, and the
// variable; it validates against docs/report.schema.json.
// The owner sleeps for an hour, far past ten times the limit: blocked, on
// the owner's sleep.
TEST(AbseilWaitReport, MutexHeldAcrossALongSleepIsBlockedOnTheSleep) {
  if (kTsan) {
    GTEST_SKIP() << "under ThreadSanitizer Abseil's lock owners are not found "
                    "(its debug bookkeeping is not where the report looks)";
  }
  const ChildResult r =
      RunStall(SYNC_WAIT_PROGRAM, "SyncWait.MutexHeldAcrossALongSleep");
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] blocked: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("waits for absl::Mutex (anonymous "
                                 "namespace)::g_results_mu (0x"))
      << r.err;
  EXPECT_THAT(verdict, ContainsRegex("held by thread [0-9]+ \"sleeper\", "
                                     "which waits in clock_nanosleep\\(\\)"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Abseil("sleep_holding"))) << r.err;
}

// A timed absl::CondVar wait in a loop, nothing else running: polling.
TEST(AbseilWaitReport, CondVarTimedPollIsPolling) {
  const ChildResult r =
      RunStall(SYNC_WAIT_PROGRAM, "SyncWait.CondVarTimedPollNeverEnds");
  const std::string verdict = JoinedVerdict(r.err);
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] polling: thread ")) << r.err;
  EXPECT_THAT(verdict, HasSubstr("absl::CondVar (anonymous "
                                 "namespace)::g_poll_cv (0x"))
      << r.err;
  EXPECT_THAT(verdict, HasSubstr(" at " + Abseil("cv_poll"))) << r.err;
}

TEST(AbseilWaitReport, JsonReportNamesThePrimitive) {
  if (std::string(PYTHON3).empty()) GTEST_SKIP() << "python3 not found";
  const std::string path = testing::TempDir() + "sync_wait_report_" +
                           std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ChildResult r = RunChild(
      {SYNC_WAIT_PROGRAM, "--gtest_filter=SyncWait.NotificationNeverNotified",
       "--gtest_watchdog_timeout=1s", "--gtest_watchdog_report=" + path});
  EXPECT_THAT(r.err, HasSubstr("[ OUTPUT   ] JSON report written to " + path));
  const ChildResult v =
      RunChild({PYTHON3, VALIDATE_JSON_REPORT, REPORT_SCHEMA, path, "--expect",
                "verdict.kind=waiting-for-notify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  std::ifstream in(path);
  const std::string json((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(json, ContainsRegex("\"kind\": *\"event\""));
  EXPECT_THAT(json, ContainsRegex("\"primitive\": *\"absl::Notification\""));
  EXPECT_THAT(json, HasSubstr("g_ready"));
  std::remove(path.c_str());
}

TEST(Cxx20WaitReport, LatchNeverCountedDown) {
  ExpectWaitingForANotify({SYNC_WAIT_CXX20_PROGRAM, &Cxx20,
                           "Cxx20Wait.LatchNeverCountedDown", "latch",
                           "std::latch (anonymous namespace)::g_workers_done "
                           "(0x",
                           "), whose count has not reached zero, in "});
}

// std::barrier waits on a slot of libstdc++'s shared waiter pool, not on
// the object: the primitive is named, the variable is not.
TEST(Cxx20WaitReport, BarrierMissingAParty) {
  ExpectWaitingForANotify({SYNC_WAIT_CXX20_PROGRAM, &Cxx20,
                           "Cxx20Wait.BarrierMissingAParty", "barrier",
                           "a std::barrier",
                           ", which not all of its threads have reached, in "});
}

TEST(Cxx20WaitReport, SemaphoreNeverReleased) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_CXX20_PROGRAM, &Cxx20, "Cxx20Wait.SemaphoreNeverReleased",
       "semaphore",
       "std::counting_semaphore (anonymous namespace)::g_slots (0x",
       "), which has no count to take (not released), in "});
}

TEST(Cxx20WaitReport, AtomicWaitNeverNotified) {
  ExpectWaitingForANotify(
      {SYNC_WAIT_CXX20_PROGRAM, &Cxx20, "Cxx20Wait.AtomicWaitNeverNotified",
       "atomic", "std::atomic (anonymous namespace)::g_generation (0x",
       "), whose value has not changed (no notify after a change), in "});
}

}  // namespace
}  // namespace gtest_watchdog_test
