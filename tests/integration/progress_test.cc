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

ChildResult RunProgress(const std::string& test,
                        std::vector<std::string> more = {}) {
  std::vector<std::string> argv = {PROGRESS_PROGRAM,
                                   "--gtest_filter=Progress." + test,
                                   "--gtest_watchdog_timeout=1s"};
  argv.insert(argv.end(), more.begin(), more.end());
  const ChildResult r = RunChild(argv);
  EXPECT_FALSE(r.killed_by_harness) << r.err;
  EXPECT_TRUE(r.signaled) << "exit code " << r.exit_code << "\n" << r.err;
  EXPECT_EQ(r.signal, SIGABRT) << r.err;
  EXPECT_GE(r.seconds, 0.9);
  EXPECT_LT(r.seconds, 1 + kSlack);
  return r;
}

// The "[ VERDICT  ]" line with its continuation lines joined back into one.
std::string Verdict(const std::string& err) {
  const size_t at = err.find("[ VERDICT  ] ");
  if (at == std::string::npos) return "";
  std::string text;
  size_t pos = at;
  for (;;) {
    const size_t end = err.find('\n', pos);
    text += err.substr(pos, end == std::string::npos ? end : end - pos);
    if (end == std::string::npos) break;
    pos = end + 1;
    if (err.compare(pos, 13, std::string(13, ' ')) != 0) break;
    text += ' ';
    pos += 13;
  }
  return text;
}

TEST(Progress, SleepWhileWorkersWorkIsSlowWithWhereTheTimeWent) {
  const ChildResult r = RunProgress("SleepWhileWorkersWork");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("waits in clock_nanosleep\\(\\) with "
                               "[0-9.]+ s left"))
      << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("long_sleep"))) << r.err;
  EXPECT_THAT(v, HasSubstr("it may still finish; the limit (1.00 s) may be "
                           "too short"))
      << r.err;
  EXPECT_THAT(v, HasSubstr("meanwhile 2 other threads work")) << r.err;
  EXPECT_THAT(v, ContainsRegex("where the time went \\([0-9]+ samples of 2 "
                               "threads\\): "))
      << r.err;
  // Where the workers were: in Mix (most of the time) or Descend.
  EXPECT_THAT(v, ContainsRegex("Mix\\(…\\) at progress_program.cc:[0-9]+ ×"))
      << r.err;
  // Each worker's own line says its stack moved.
  EXPECT_THAT(r.err, ContainsRegex("of a CPU, stack moving \\(3 samples\\)"))
      << r.err;
}

TEST(Progress, JoiningAWorkerThatWorksIsSlow) {
  const ChildResult r = RunProgress("JoinAWorkerThatWorks");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("waits to join thread [0-9]+ \"[^\"]+\", which "
                               "is working \\([0-9]+% of a CPU\\), its stack "
                               "moving between samples"))
      << r.err;
  EXPECT_THAT(v, HasSubstr("where the time went (3 samples of 1 thread)"))
      << r.err;
}

TEST(Progress, ConditionWhileWorkersWorkIsSlow) {
  const ChildResult r = RunProgress("ConditionWhileWorkersWork");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("condition variable")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("cv_workers"))) << r.err;
  EXPECT_THAT(v, HasSubstr("meanwhile 2 other threads work")) << r.err;
}

TEST(Progress, PollThatNeverEndsIsPolling) {
  const ChildResult r = RunProgress("PollThatNeverEnds");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] polling: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("keeps waking up in the same spot")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("poll"))) << r.err;
  EXPECT_THAT(v, HasSubstr("no other thread makes progress")) << r.err;
}

TEST(Progress, PollWhileAWorkerWorksIsSlow) {
  const ChildResult r = RunProgress("PollWhileAWorkerWorks");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, HasSubstr("keeps waking up")) << r.err;
  EXPECT_THAT(v, HasSubstr("meanwhile 1 other thread works")) << r.err;
}

TEST(Progress, OneLongSleepMayStillFinish) {
  const ChildResult r = RunProgress("OneLongSleep");
  const std::string v = Verdict(r.err);
  EXPECT_THAT(v, StartsWith("[ VERDICT  ] slow, not stuck: thread ")) << r.err;
  EXPECT_THAT(v, ContainsRegex("with [67]\\.[0-9]+ s left")) << r.err;
  EXPECT_THAT(v, HasSubstr(" at " + Where("one_sleep"))) << r.err;
  EXPECT_THAT(v, HasSubstr("it may still finish")) << r.err;
  EXPECT_THAT(v, Not(HasSubstr("meanwhile"))) << r.err;
}

}  // namespace
}  // namespace gtest_watchdog_test
