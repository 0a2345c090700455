// Tests for the evidence over time (gtest_watchdog/diagnose/progress.h):
// where a stack stands, whether a thread's stack moved between samples,
// and where working threads spent their time.

#include "gtest_watchdog/diagnose/progress.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

constexpr int64_t kInterval = 100'000'000;

std::vector<SourceFrame> Stack(std::vector<SourceFrame> inner) {
  inner.push_back(Fn("Worker(int)", "/src/worker.cc", 40));
  inner.push_back(Fn("start_thread", "./nptl/pthread_create.c", 442));
  return inner;
}

class ProgressTest : public ::testing::Test {
 protected:
  ProgressTest() {
    snap_.kind = "timeout";
    SnapshotThread t = Thread(7, "worker");
    t.cpu_ns = 0;
    t.queued_ns = 0;
    t.wakeups = 0;
    t.interval_ns = kInterval;
    snap_.threads.push_back(t);
    model_ = ModelOf(snap_);
    model_.threads[0].frames = Stack({Fn("Mix()", "/src/work.cc", 10)});
  }
  SnapshotThread& Raw() { return snap_.threads[0]; }
  ThreadModel& T() { return model_.threads[0]; }

  Snapshot snap_;
  ReportModel model_;
};

TEST_F(ProgressTest, AThreadThatDidNotRunIsIdleWhateverItsSamples) {
  T().samples = {Stack({Fn("Other()", "/src/work.cc", 20)})};
  EXPECT_EQ(DecideMotion(T()), Motion::kIdle);
}

TEST_F(ProgressTest, NotMeasuredOrASingleSampleIsUnknown) {
  Raw().cpu_ns = 50'000'000;
  EXPECT_EQ(DecideMotion(T()), Motion::kUnknown);  // one sample only
  Raw().interval_ns = -1;
  T().samples = {Stack({Fn("Other()", "/src/work.cc", 20)})};
  EXPECT_EQ(DecideMotion(T()), Motion::kUnknown);  // no CPU figures
}

TEST_F(ProgressTest, ADifferentFunctionOrCallSiteIsAMove) {
  Raw().cpu_ns = 50'000'000;
  T().samples = {Stack({Fn("Mix()", "/src/work.cc", 12)})};
  EXPECT_EQ(DecideMotion(T()), Motion::kSameSpot);  // a loop's other line
  T().samples.push_back(Stack({Fn("Other()", "/src/work.cc", 20)}));
  EXPECT_EQ(DecideMotion(T()), Motion::kMoved);
  // Called from another line of the same caller: moved too.
  T().samples = {{Fn("Mix()", "/src/work.cc", 10),
                  Fn("Worker(int)", "/src/worker.cc", 41),
                  Fn("start_thread", "./nptl/pthread_create.c", 442)}};
  EXPECT_EQ(DecideMotion(T()), Motion::kMoved);
  // Only libc's frames inside the same user frame differ: the same spot.
  T().frames = Stack({Fn("memcpy", "", 0), Fn("Mix()", "/src/work.cc", 10)});
  T().samples = {Stack({Fn("strlen", "", 0), Fn("Mix()", "/src/work.cc", 11)})};
  EXPECT_EQ(DecideMotion(T()), Motion::kSameSpot);
}

// A spin loop through a lock wrapper inlined from a header: Lock() in one
// sample, Unlock() in the next, the loop itself never leaves its spot.
TEST_F(ProgressTest, AHeaderWrapperInlinedIntoTheLoopIsNotAMove) {
  Raw().cpu_ns = 90'000'000;
  T().frames = Stack({Fn("port::Mutex::Lock()", "/src/port/port.h", 59, true),
                      Fn("Spin()", "/src/env_test.cc", 158)});
  T().samples = {
      Stack({Fn("port::Mutex::Unlock()", "/src/port/port.h", 60, true),
             Fn("Spin()", "/src/env_test.cc", 160)}),
      T().frames};
  EXPECT_EQ(DecideMotion(T()), Motion::kSameSpot);
  const SourceFrame* user = FirstUserFrame(T().frames);
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->function, "Spin()");
  // A wrapper with no user caller is still the user's code.
  const std::vector<SourceFrame> alone = {
      Fn("port::Mutex::Lock()", "/src/port/port.h", 59, true),
      Fn("start_thread", "./nptl/pthread_create.c", 442)};
  ASSERT_NE(FirstUserFrame(alone), nullptr);
  EXPECT_EQ(FirstUserFrame(alone)->function, "port::Mutex::Lock()");
}

TEST_F(ProgressTest, TimeSpentCountsEverySampleAtItsUserFrame) {
  T().samples = {Stack({Fn("Other()", "/src/work.cc", 20)}),
                 Stack({Fn("Mix()", "/src/work.cc", 10)})};
  const TimeSpent spent = SummarizeSamples(model_, {0}, 3);
  EXPECT_EQ(spent.samples, 3);
  EXPECT_EQ(spent.threads, 1);
  ASSERT_EQ(spent.spots.size(), 2u);
  EXPECT_EQ(spent.spots[0].where.function, "Mix()");
  EXPECT_EQ(spent.spots[0].count, 2);
  EXPECT_EQ(spent.spots[1].where.function, "Other()");
  EXPECT_EQ(SummarizeSamples(model_, {0}, 1).spots.size(), 1u);
  EXPECT_EQ(SummarizeSamples(model_, {}, 3).samples, 0);
}

}  // namespace
}  // namespace gtest_watchdog_internal
