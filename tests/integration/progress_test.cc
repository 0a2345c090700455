// Slow versus stuck, on programs that really run (tests/programs/
// progress_program.cc): workers that compute make a test "slow, not stuck"
// whatever its own thread waits on; one long sleep may still finish; a poll
// that wakes up in one spot with nothing else moving is "polling"; the
// per-thread lines say whether each stack moved between samples, and the
// JSON report carries the same evidence.
#include <signal.h>

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

constexpr SourceMarkers Where(PROGRESS_SOURCE);

// Under ThreadSanitizer a thread running instrumented code takes a signal
// only at its next intercepted call: a computing worker gives no extra
// stack sample, its motion is unknown, and the verdict falls back to what
// the CPU window alone says (docs/verdict.md, "Limits").
#define SKIP_IF_WORKERS_CANNOT_BE_SAMPLED()                     \
  if (kTsan)                                                    \
  GTEST_SKIP() << "ThreadSanitizer defers the sampling signal " \
                  "of threads that compute"

// Two workers compute; one may get no CPU in the window when the machine
// is loaded, so either count is right.
constexpr char kWorkersWork[] =
    "meanwhile (1 other thread works|2 other threads work)";

ChildResult RunProgress(const std::string& test, int limit_s = 1) {
  return RunStalling(PROGRESS_PROGRAM, "Progress." + test, limit_s);
}

TEST(Progress, SleepWhileWorkersWorkIsSlowWithWhereTheTimeWent) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("SleepWhileWorkersWork");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("waits in clock_nanosleep\\(\\) with "
                               "[0-9.]+ s left"))
      << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("long_sleep"))) << r.err;
  EXPECT_THAT(v, ContainsRegex("it may still finish; the limit \\([0-9.]+ s\\) "
                               "may be too short"))
      << r.err;
  // Both workers compute, but on a loaded machine (2 cores, the tests run
  // two at a time) one of them may get no CPU in the short window.
  EXPECT_THAT(v, ContainsRegex(kWorkersWork)) << r.err;
  EXPECT_THAT(v, ContainsRegex("where the time went \\([0-9]+ samples of "
                               "(1 thread|2 threads)\\): "))
      << r.err;
  // Where the workers were: in Mix (most of the time) or Descend.
  EXPECT_THAT(v, ContainsRegex("Mix\\(…\\) at progress_program.cc:[0-9]+ ×"))
      << r.err;
  // Each worker's own line says its stack moved.
  EXPECT_THAT(r.err, ContainsRegex("of a CPU, stack moving \\(3 samples\\)"))
      << r.err;
}

TEST(Progress, JoiningAWorkerThatWorksIsSlow) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("JoinAWorkerThatWorks");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("waits to join thread [0-9]+ \"[^\"]+\", which "
                               "is working \\([0-9]+% of a CPU\\), its stack "
                               "moving between samples"))
      << r.err;
  EXPECT_THAT(v, HasSubstr("where the time went (3 samples of 1 thread)"))
      << r.err;
}

TEST(Progress, ConditionWhileWorkersWorkIsSlow) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("ConditionWhileWorkersWork");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("condition variable")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("cv_workers"))) << r.err;
  EXPECT_THAT(v, ContainsRegex(kWorkersWork)) << r.err;
}

TEST(Progress, PollThatNeverEndsIsPolling) {
  const ChildResult r = RunProgress("PollThatNeverEnds");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] polling: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("keeps waking up in the same spot")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("poll"))) << r.err;
  EXPECT_THAT(v, HasSubstr("no other thread makes progress")) << r.err;
}

TEST(Progress, PollWhileAWorkerWorksIsSlow) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("PollWhileAWorkerWorks");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("keeps waking up")) << r.err;
  EXPECT_THAT(v, HasSubstr("meanwhile 1 other thread works")) << r.err;
}

TEST(Progress, OneLongSleepMayStillFinish) {
  const ChildResult r = RunProgress("OneLongSleep");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("with [0-9]+\\.[0-9]+ s left")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("one_sleep"))) << r.err;
  EXPECT_THAT(v, HasSubstr("it may still finish")) << r.err;
  EXPECT_THAT(v, Not(HasSubstr("meanwhile"))) << r.err;
}

TEST(Progress, CrunchInTheTestThreadIsSlow) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("CrunchInTheTestThread");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("is working")) << r.err;
  EXPECT_THAT(v, ContainsRegex("where the time went \\(3 samples of 1 "
                               "thread\\): "))
      << r.err;
}

// Lock() and Unlock() come from a header and are inlined into the loop:
// the loop never leaves its spot, and the verdict points at its line.
TEST(Progress, SpinThroughALockWrapperIsBusyInOneSpot) {
  const ChildResult r = RunProgress("SpinThroughALockWrapper");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] busy: thread ")) << r.err;
  if (!kTsan) {  // ThreadSanitizer defers the sampling signal of a spinner
    EXPECT_THAT(v, HasSubstr("the same spot in all 3 samples")) << r.err;
  }
  // Somewhere in the loop's lines, never in the wrapper's header.
  EXPECT_THAT(v, ContainsRegex("TestBody\\(\\) at progress_program.cc:[0-9]+"))
      << r.err;
  EXPECT_THAT(v, Not(HasSubstr("progress_wrapper.h"))) << r.err;
}

// A 130 ms sleep-poll wakes up at most once in the 100 ms CPU window: back
// in the same sleep, or seen in a short sleep 2 s into the test, with
// nothing else running, it polls.
TEST(Progress, SleepPollForAWorkerThatLeftIsPolling) {
  const ChildResult r = RunProgress("SleepPollForAWorkerThatLeft", 2);
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] polling: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("sleep_poll"))) << r.err;
}

// The chain ends at the test's condition wait; the only thread doing
// anything is the job it waits for, polling in one spot: the verdict is
// about that poll (leveldb's DBTest.GetFromImmutableLayer shape).
TEST(Progress, WaitForAPollingJobIsThatPoll) {
  const ChildResult r = RunProgress("WaitForAPollingJob");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] polling: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("keeps waking up in the same spot, now waits in "))
      << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("job_poll"))) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("wait_job"))) << r.err;
  EXPECT_THAT(v, HasSubstr("the notify most likely waits for that poll"))
      << r.err;
}

// The verdict points at the test's loop, not at the wrapper's Wait().
TEST(Progress, LostNotifyThroughAWrapperPointsAtTheLoop) {
  const ChildResult r = RunProgress("LostNotifyThroughAWrapper");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] waiting for a notify: thread "))
      << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("lost_notify"))) << r.err;
  const size_t stalled = r.err.find("[ STALLED  ] thread ");
  ASSERT_NE(stalled, std::string::npos) << r.err;
  EXPECT_THAT(r.err.substr(stalled, r.err.find('\n', stalled) - stalled),
              HasSubstr(Where("lost_notify")))
      << r.err;
}

// A chain of two conditions nobody signals: waiting for a notify, at the
// test's wait.
TEST(Progress, WaitForAJobThatWaitsForInputWaitsForANotify) {
  const ChildResult r = RunProgress("WaitForAJobThatWaitsForInput");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] waiting for a notify: thread "))
      << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("wait_input_job"))) << r.err;
  EXPECT_THAT(v, HasSubstr("nothing may ever notify it")) << r.err;
}

// Workers taking turns on one lock: whichever the test waits for, the
// lock's holder works, so the test is slow, not stuck.
TEST(Progress, JoinWorkersThatShareALockIsSlow) {
  SKIP_IF_WORKERS_CANNOT_BE_SAMPLED();
  const ChildResult r = RunProgress("JoinWorkersThatShareALock");
  const std::string v = JoinedVerdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("waits to join thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("where the time went")) << r.err;
}

}  // namespace
}  // namespace gtest_watchdog_test
