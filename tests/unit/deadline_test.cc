// Tests for the deadline bookkeeping: DecideNext and Watchdog
// (gtest_watchdog/watch/watchdog.h) and DeadlineBoard
// (gtest_watchdog/watch/deadline_board.h).

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/watch/deadline_board.h"
#include "gtest_watchdog/watch/phase.h"
#include "gtest_watchdog/watch/watchdog.h"

namespace gtest_watchdog_internal {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

ArmedPhase MakeArmed(uint64_t generation, Phase phase, int64_t start_ns,
                     int64_t limit_ns) {
  ArmedPhase a;
  a.generation = generation;
  a.phase = phase;
  a.start_ns = start_ns;
  a.limit_ns = limit_ns;
  return a;
}

// ---- DecideNext: a pure function, tested as a table ----

struct DecideCase {
  const char* name;
  ArmedPhase armed;
  int64_t now_ns;
  int64_t idle_ns;
  uint64_t already_fired;
  bool want_fire;
  int64_t want_wake_ns;
};

std::ostream& operator<<(std::ostream& os, const DecideCase& c) {
  return os << c.name;
}

class DecideNextTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideNextTest, Decides) {
  const DecideCase& c = GetParam();
  const Decision d = DecideNext(c.armed, c.now_ns, c.idle_ns, c.already_fired);
  EXPECT_EQ(d.action == Action::kFire, c.want_fire);
  EXPECT_EQ(d.wake_ns, c.want_wake_ns);
}

constexpr uint64_t kNeverFired = ~uint64_t{0};

INSTANTIATE_TEST_SUITE_P(
    Table, DecideNextTest,
    ::testing::Values(
        DecideCase{"NotArmed", MakeArmed(2, Phase::kNone, 0, 0), 1000, 500,
                   kNeverFired, false, 1500},
        DecideCase{"PhaseSetButZeroLimit", MakeArmed(2, Phase::kTest, 100, 0),
                   1000, 500, kNeverFired, false, 1500},
        DecideCase{"NoPhaseButLimit", MakeArmed(2, Phase::kNone, 100, 50), 1000,
                   500, kNeverFired, false, 1500},
        DecideCase{"ArmedBeforeDeadline", MakeArmed(4, Phase::kTest, 100, 900),
                   500, 10 * kSec, kNeverFired, false, 1000},
        DecideCase{"ArmedJustBeforeDeadline",
                   MakeArmed(4, Phase::kTest, 100, 900), 999, 10 * kSec,
                   kNeverFired, false, 1000},
        DecideCase{"ArmedAtDeadline", MakeArmed(4, Phase::kTest, 100, 900),
                   1000, 10 * kSec, kNeverFired, true, 1000},
        DecideCase{"ArmedAfterDeadline", MakeArmed(4, Phase::kTest, 100, 900),
                   5000, 10 * kSec, kNeverFired, true, 5000},
        DecideCase{"OtherPhaseAfterDeadline",
                   MakeArmed(6, Phase::kTestSuiteSetUp, 0, 10), 20, 7,
                   kNeverFired, true, 20},
        DecideCase{"DifferentGenerationFiredBefore",
                   MakeArmed(8, Phase::kTest, 100, 900), 5000, 10 * kSec, 6,
                   true, 5000},
        DecideCase{"AlreadyFiredThisGeneration",
                   MakeArmed(8, Phase::kTest, 100, 900), 5000, 300, 8, false,
                   5300},
        DecideCase{"AlreadyFiredBeforeDeadline",
                   MakeArmed(8, Phase::kTest, 100, 900), 500, 300, 8, false,
                   800},
        DecideCase{"ArmedDeadlineLaterThanIdle",
                   MakeArmed(4, Phase::kEnvironmentSetUp, 0, 100 * kSec), 0,
                   kSec, kNeverFired, false, 100 * kSec}),
    [](const ::testing::TestParamInfo<DecideCase>& param_info) {
      return std::string(param_info.param.name);
    });

// ---- DeadlineBoard ----

TEST(DeadlineBoardTest, FreshBoardIsNotArmed) {
  DeadlineBoard board;
  const ArmedPhase a = board.Read();
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(a.phase, Phase::kNone);
  EXPECT_EQ(a.subject, nullptr);
}

TEST(DeadlineBoardTest, ArmThenReadGivesTheFields) {
  DeadlineBoard board;
  board.PlanWake(0);  // no watchdog sleeping: nothing to kick
  int subject = 0;
  board.Arm(Phase::kTestSuiteTearDown, &subject, 1234, 5678);
  const ArmedPhase a = board.Read();
  EXPECT_TRUE(a.armed());
  EXPECT_EQ(a.phase, Phase::kTestSuiteTearDown);
  EXPECT_EQ(a.subject, &subject);
  EXPECT_EQ(a.start_ns, 1234);
  EXPECT_EQ(a.limit_ns, 5678);
  EXPECT_EQ(a.deadline_ns(), 1234 + 5678);
}

TEST(DeadlineBoardTest, DisarmClears) {
  DeadlineBoard board;
  int subject = 0;
  board.Arm(Phase::kTest, &subject, 100, 200);
  const uint64_t armed_generation = board.Read().generation;
  board.Disarm();
  const ArmedPhase a = board.Read();
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(a.phase, Phase::kNone);
  EXPECT_EQ(a.subject, nullptr);
  EXPECT_EQ(a.limit_ns, 0);
  EXPECT_NE(a.generation, armed_generation);
}

TEST(DeadlineBoardTest, GenerationChangesOnEveryArm) {
  DeadlineBoard board;
  int subject = 0;
  uint64_t last = board.Read().generation;
  for (int i = 0; i < 5; ++i) {
    // Identical arguments each time: only the generation tells them apart.
    board.Arm(Phase::kTest, &subject, 100, 200);
    const uint64_t g = board.Read().generation;
    EXPECT_NE(g, last) << "arm " << i;
    EXPECT_GT(g, last) << "arm " << i;
    last = g;
  }
}

TEST(DeadlineBoardTest, ZeroOrNegativeLimitIsRunningButNotArmed) {
  DeadlineBoard board;
  int subject = 0;
  board.Arm(Phase::kTest, &subject, 100, 200);
  const uint64_t g = board.Read().generation;
  board.Arm(Phase::kTest, &subject, 300, 0);
  ArmedPhase a = board.Read();
  EXPECT_FALSE(a.armed());
  // Still known to be running (for slow-test warnings), just unlimited.
  EXPECT_TRUE(a.running());
  EXPECT_EQ(a.phase, Phase::kTest);
  EXPECT_NE(a.generation, g);
  board.Arm(Phase::kTest, &subject, 300, -5);
  a = board.Read();
  EXPECT_FALSE(a.armed());
}

TEST(DeadlineBoardTest, ArmWithEarlierDeadlineThanPlannedWakesTheSleeper) {
  DeadlineBoard board;
  const int64_t now = MonotonicNowNs();
  const uint32_t seen = board.PlanWake(now + 60 * kSec);
  int subject = 0;
  board.Arm(Phase::kTest, &subject, now, 50 * kMs);
  const auto start = std::chrono::steady_clock::now();
  board.WaitUntil(seen, now + 5 * kSec);  // must return at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(DeadlineBoardTest, ArmWithLaterDeadlineThanPlannedDoesNotWake) {
  DeadlineBoard board;
  const int64_t now = MonotonicNowNs();
  const uint32_t seen = board.PlanWake(now + 100 * kMs);
  int subject = 0;
  board.Arm(Phase::kTest, &subject, now, 60 * kSec);
  board.WaitUntil(seen, now + 100 * kMs);  // sleeps until the planned time
  EXPECT_GE(MonotonicNowNs(), now + 100 * kMs);
}

TEST(DeadlineBoardTest, KickWakesTheSleeper) {
  DeadlineBoard board;
  const int64_t now = MonotonicNowNs();
  const uint32_t seen = board.PlanWake(now + 60 * kSec);
  board.Kick();
  const auto start = std::chrono::steady_clock::now();
  board.WaitUntil(seen, now + 5 * kSec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(DeadlineBoardTest, KickFromAnotherThreadWakesAWaiter) {
  DeadlineBoard board;
  const int64_t now = MonotonicNowNs();
  const uint32_t seen = board.PlanWake(now + 60 * kSec);
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    board.WaitUntil(seen, now + 30 * kSec);
    woke = true;
  });
  // Kick repeatedly until the waiter is out: a kick before it sleeps also
  // counts, because the wake word has changed by then.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  board.Kick();
  while (!woke && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(woke);
  if (!woke) board.Kick();
  waiter.join();
}

TEST(DeadlineBoardTest, WaitUntilPastDeadlineReturns) {
  DeadlineBoard board;
  const uint32_t seen = board.PlanWake(0);
  const auto start = std::chrono::steady_clock::now();
  board.WaitUntil(seen, MonotonicNowNs() - kSec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(DeadlineBoardTest, FreezeKeepsTheBoardAndParksLaterWriters) {
  DeadlineBoard board;
  int subject = 0;
  board.Arm(Phase::kTest, &subject, MonotonicNowNs(), 5 * kSec, "here");
  const ArmedPhase before = board.Read();
  EXPECT_FALSE(board.frozen());
  const ArmedPhase frozen = board.Freeze();
  EXPECT_TRUE(board.frozen());
  EXPECT_EQ(frozen.generation, before.generation);
  EXPECT_EQ(frozen.subject, &subject);
  // A writer after the freeze never gets to change the board: it parks for
  // good (the process is about to end). Detached: it never returns.
  std::atomic<pid_t> writer_tid{0};
  std::thread([&board, &writer_tid] {
    writer_tid = static_cast<pid_t>(syscall(SYS_gettid));
    board.Disarm();
    ADD_FAILURE() << "Disarm() returned on a frozen board";
  }).detach();
  // Wait until it sleeps in the kernel (parked), then look at the board.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool parked = false;
  while (!parked && std::chrono::steady_clock::now() < deadline) {
    const pid_t tid = writer_tid.load();
    if (tid != 0) {
      KernelThreadInfo info;
      ReadKernelThreadInfo(tid, &info);
      parked = info.state == 'S' && info.syscall_nr == SYS_futex;
    }
    std::this_thread::yield();
  }
  EXPECT_TRUE(parked);
  const ArmedPhase after = board.Read();
  EXPECT_EQ(after.generation, before.generation);
  EXPECT_EQ(after.phase, Phase::kTest);
  EXPECT_EQ(after.subject, &subject);
}

TEST(DeadlineBoardTest, RequestReportSetsTheFlagAndWakesTheSleeper) {
  DeadlineBoard board;
  EXPECT_FALSE(board.report_requested());
  const int64_t now = MonotonicNowNs();
  const uint32_t seen = board.PlanWake(now + 60 * kSec);
  board.RequestReport();
  EXPECT_TRUE(board.report_requested());
  const auto start = std::chrono::steady_clock::now();
  board.WaitUntil(seen, now + 5 * kSec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(MonotonicNowNsTest, TracksSteadyClock) {
  const int64_t a = MonotonicNowNs();
  const int64_t steady =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count();
  const int64_t b = MonotonicNowNs();
  EXPECT_LE(a, b);
  // libstdc++'s steady_clock is CLOCK_MONOTONIC.
  EXPECT_LE(a, steady);
  EXPECT_LE(steady, b);
}

// Single writer arms and disarms as fast as it can; a reader checks that every
// snapshot is one the writer really published, never a mix of two.
TEST(DeadlineBoardTest, ConcurrentReadsAreConsistent) {
  constexpr int kIterations = 1'000'000;
  constexpr int kSubjects = 997;
  static int subjects[kSubjects];
  DeadlineBoard board;
  board.PlanWake(0);  // so Arm() never makes a futex call

  std::atomic<bool> reader_ready{false};
  std::atomic<bool> writer_done{false};
  int64_t reads = 0;
  int64_t armed_reads = 0;
  int64_t bad_reads = 0;
  std::string first_bad;
  std::thread reader([&] {
    uint64_t last_generation = 0;
    reader_ready = true;
    for (;;) {
      const bool done = writer_done.load();
      const ArmedPhase a = board.Read();
      ++reads;
      bool ok = a.generation % 2 == 0 && a.generation >= last_generation;
      last_generation = a.generation;
      if (a.phase == Phase::kNone) {
        ok = ok && a.subject == nullptr && a.start_ns == 0 && a.limit_ns == 0;
      } else {
        ++armed_reads;
        const int64_t i = a.start_ns - 1;
        const int64_t k = i % kSubjects;
        ok = ok && a.phase == Phase::kTest && i >= 0 && i < kIterations &&
             a.subject == &subjects[k] && a.limit_ns == k + 1;
      }
      if (!ok && bad_reads++ == 0) {
        first_bad = "generation " + std::to_string(a.generation) + " phase " +
                    PhaseId(a.phase) + " start " + std::to_string(a.start_ns) +
                    " limit " + std::to_string(a.limit_ns);
      }
      if (done) break;
    }
  });
  while (!reader_ready) std::this_thread::yield();
  for (int i = 0; i < kIterations; ++i) {
    const int k = i % kSubjects;
    board.Arm(Phase::kTest, &subjects[k], int64_t{i} + 1, k + 1);
    if (i % 3 == 0) board.Disarm();
  }
  board.Arm(Phase::kTest, &subjects[0], 1, 1);  // the reader ends on this
  writer_done = true;
  reader.join();

  EXPECT_EQ(bad_reads, 0) << "first inconsistent snapshot: " << first_bad;
  EXPECT_GT(armed_reads, 0);
  EXPECT_GT(reads, 0);
  const ArmedPhase last = board.Read();
  EXPECT_EQ(last.generation, 2u * (kIterations + (kIterations + 2) / 3 + 1));
}

// ---- Watchdog with a real board ----

// What the stall handler saw; the handler is a plain function pointer.
struct StallLog {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  ArmedPhase last;
  int64_t last_now_ns = 0;
  std::atomic<pid_t> watchdog_tid{0};
  char thread_name[16] = {};
};

StallLog& Log() {
  static auto* log = new StallLog();
  return *log;
}

void ResetLog() {
  StallLog& log = Log();
  std::lock_guard<std::mutex> lock(log.mu);
  log.calls = 0;
  log.last = ArmedPhase();
  log.last_now_ns = 0;
  log.watchdog_tid = 0;
  memset(log.thread_name, 0, sizeof(log.thread_name));
}

void RecordStall(Action, const ArmedPhase& armed, const TotalLimit&,
                 int64_t now_ns) {
  StallLog& log = Log();
  std::lock_guard<std::mutex> lock(log.mu);
  ++log.calls;
  log.last = armed;
  log.last_now_ns = now_ns;
  log.cv.notify_all();
}

void RecordStart() {
  StallLog& log = Log();
  pthread_getname_np(pthread_self(), log.thread_name, sizeof(log.thread_name));
  log.watchdog_tid = static_cast<pid_t>(syscall(SYS_gettid));
}

int Calls() {
  std::lock_guard<std::mutex> lock(Log().mu);
  return Log().calls;
}

// Waits up to `timeout` for at least `n` calls; returns the count seen.
int WaitForCalls(int n, std::chrono::milliseconds timeout) {
  StallLog& log = Log();
  std::unique_lock<std::mutex> lock(log.mu);
  log.cv.wait_for(lock, timeout, [&] { return log.calls >= n; });
  return log.calls;
}

// Waits until the watchdog thread has started and sleeps in the kernel.
bool WaitUntilWatchdogSleeps() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t tid = Log().watchdog_tid.load();
    if (tid != 0) {
      KernelThreadInfo info;
      ReadKernelThreadInfo(tid, &info);
      if (info.state == 'S' && info.syscall_nr == SYS_futex) return true;
    }
    std::this_thread::yield();
  }
  return false;
}

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override { ResetLog(); }
  DeadlineBoard board_;
  int subject_ = 0;
};

// What the request handler saw (a signal handler's report request).
std::atomic<int> g_requests{0};
std::atomic<uint64_t> g_request_generation{0};
void RecordRequest(const ArmedPhase& armed, int64_t) {
  g_request_generation = armed.generation;
  ++g_requests;
}

TEST_F(WatchdogTest, ReportRequestIsHandedToTheRequestHandlerOnce) {
  g_requests = 0;
  Watchdog dog(&board_, 60 * kSec, &RecordStall, &RecordStart);
  dog.set_request_handler(&RecordRequest);
  board_.Arm(Phase::kTest, &subject_, MonotonicNowNs(), 60 * kSec);
  const uint64_t generation = board_.Read().generation;
  dog.Start();
  ASSERT_TRUE(WaitUntilWatchdogSleeps());
  board_.RequestReport();  // as a crash handler does
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_requests.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(g_requests.load(), 1);
  EXPECT_EQ(g_request_generation.load(), generation);
  // Not a stall; and the watchdog goes back to sleep instead of spinning.
  EXPECT_TRUE(WaitUntilWatchdogSleeps());
  EXPECT_EQ(g_requests.load(), 1);
  EXPECT_EQ(Calls(), 0);
  dog.Stop();
}

TEST_F(WatchdogTest, FiresOnceAfterTheDeadline) {
  Watchdog dog(&board_, 10 * kSec, &RecordStall, &RecordStart);
  dog.Start();
  const int64_t start = MonotonicNowNs();
  board_.Arm(Phase::kTest, &subject_, start, 50 * kMs);
  const uint64_t generation = board_.Read().generation;
  ASSERT_EQ(WaitForCalls(1, std::chrono::seconds(5)), 1);
  {
    std::lock_guard<std::mutex> lock(Log().mu);
    EXPECT_EQ(Log().last.phase, Phase::kTest);
    EXPECT_EQ(Log().last.subject, &subject_);
    EXPECT_EQ(Log().last.generation, generation);
    EXPECT_EQ(Log().last.start_ns, start);
    EXPECT_EQ(Log().last.limit_ns, 50 * kMs);
    EXPECT_GE(Log().last_now_ns, start + 50 * kMs);
  }
  // The same phase is reported once, not again on every wake-up.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Calls(), 1);
  dog.Stop();
  EXPECT_STREQ(Log().thread_name, "gtest_watchdog");
}

TEST_F(WatchdogTest, DisarmBeforeDeadlineDoesNotFire) {
  Watchdog dog(&board_, 10 * kSec, &RecordStall, nullptr);
  dog.Start();
  board_.Arm(Phase::kTest, &subject_, MonotonicNowNs(), 100 * kMs);
  board_.Disarm();
  std::this_thread::sleep_for(std::chrono::milliseconds(100 + 300));
  EXPECT_EQ(Calls(), 0);
  dog.Stop();
}

TEST_F(WatchdogTest, ShorterLimitArmedDuringLongIdleSleepFiresPromptly) {
  Watchdog dog(&board_, 60 * kSec, &RecordStall, &RecordStart);
  dog.Start();
  // Make sure it is asleep with a 60 s plan before arming, so only Arm()'s
  // wake-up can make it fire in time.
  ASSERT_TRUE(WaitUntilWatchdogSleeps());
  const auto start = std::chrono::steady_clock::now();
  board_.Arm(Phase::kTest, &subject_, MonotonicNowNs(), 50 * kMs);
  ASSERT_EQ(WaitForCalls(1, std::chrono::seconds(5)), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  dog.Stop();
}

TEST_F(WatchdogTest, ShorterLimitAfterLongArmedPhaseFiresPromptly) {
  Watchdog dog(&board_, 60 * kSec, &RecordStall, &RecordStart);
  dog.Start();
  board_.Arm(Phase::kTestSuiteSetUp, &subject_, MonotonicNowNs(), 60 * kSec);
  ASSERT_TRUE(WaitUntilWatchdogSleeps());
  const auto start = std::chrono::steady_clock::now();
  int other = 0;
  board_.Arm(Phase::kTest, &other, MonotonicNowNs(), 50 * kMs);
  ASSERT_EQ(WaitForCalls(1, std::chrono::seconds(5)), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  std::lock_guard<std::mutex> lock(Log().mu);
  EXPECT_EQ(Log().last.subject, &other);
  dog.Stop();
}

TEST_F(WatchdogTest, EachNewPhaseFiresAgain) {
  Watchdog dog(&board_, 10 * kSec, &RecordStall, nullptr);
  dog.Start();
  board_.Arm(Phase::kTest, &subject_, MonotonicNowNs(), 20 * kMs);
  ASSERT_EQ(WaitForCalls(1, std::chrono::seconds(5)), 1);
  board_.Arm(Phase::kTest, &subject_, MonotonicNowNs(), 20 * kMs);
  ASSERT_EQ(WaitForCalls(2, std::chrono::seconds(5)), 2);
  dog.Stop();
}

TEST_F(WatchdogTest, StopJoinsPromptlyEvenDuringLongSleep) {
  Watchdog dog(&board_, 60 * kSec, &RecordStall, &RecordStart);
  dog.Start();
  ASSERT_TRUE(WaitUntilWatchdogSleeps());
  const pid_t tid = Log().watchdog_tid;
  const auto start = std::chrono::steady_clock::now();
  dog.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Joined: the thread is gone (the kernel may take a moment to reap it).
  bool gone = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    KernelThreadInfo info;
    ReadKernelThreadInfo(tid, &info);
    gone = info.gone;
    if (!gone) std::this_thread::yield();
  }
  EXPECT_TRUE(gone);
  dog.Stop();  // a second Stop is harmless
  EXPECT_EQ(Calls(), 0);
}

TEST_F(WatchdogTest, StopWithoutStartAndDestructorAreHarmless) {
  {
    Watchdog dog(&board_, kSec, &RecordStall, nullptr);
    dog.Stop();
  }
  {
    Watchdog dog(&board_, 60 * kSec, &RecordStall, nullptr);
    dog.Start();
  }  // the destructor stops and joins
  EXPECT_EQ(Calls(), 0);
}

}  // namespace
}  // namespace gtest_watchdog_internal
