// Tests for the verdict rules (gtest_watchdog/diagnose/verdict.h) on
// hand-made models: which kind each situation gets, which threads the wait
// chain runs through, where it points, and the words.

#include "gtest_watchdog/diagnose/verdict.h"

#include <signal.h>
#include <sys/syscall.h>

#include <deque>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "model_builders.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr int64_t kInterval = 250'000'000;

// Threads 1 (test, "main"), 2 ("worker"), 3 ("io"), 9 (the watchdog); each
// sleeping in a futex with no wait known, no CPU used, until a test says.
class VerdictTest : public ::testing::Test {
 protected:
  VerdictTest() {
    snap_.kind = "timeout";
    snap_.pid = 1;
    snap_.test_tid = 1;
    snap_.watchdog_tid = 9;
    for (pid_t tid : {1, 2, 3, 9}) {
      SnapshotThread t =
          Thread(tid,
                 tid == 1   ? "main"
                 : tid == 2 ? "worker"
                 : tid == 3 ? "io"
                            : "gtest_watchdog",
                 'S', tid == 9 ? StackStatus::kSelf : StackStatus::kOk);
      InFutex(&t, 0x1000 + tid, 0);
      t.cpu_ns = 0;
      t.queued_ns = 0;
      t.wakeups = 0;
      t.interval_ns = kInterval;
      snap_.threads.push_back(t);
    }
    model_ = ModelOf(snap_);
    for (ThreadModel& m : model_.threads) {
      const pid_t tid = m.raw->tid;
      m.call.kind = BlockKind::kFutex;
      m.call.name = "futex";
      m.frames = {
          Fn("__futex_abstimed_wait_common", "", 0),
          Fn("Code" + std::to_string(tid) + "()", "/src/code.cc", 10 * tid)};
    }
  }

  SnapshotThread& Raw(int i) { return snap_.threads[i]; }
  ThreadModel& T(int i) { return model_.threads[i]; }
  void Cpu(int i, int64_t cpu, int64_t queued, int64_t wakeups) {
    Raw(i).cpu_ns = cpu;
    Raw(i).queued_ns = queued;
    Raw(i).wakeups = wakeups;
  }
  void Waits(int i, WaitKind kind, pid_t owner, const std::string& name) {
    T(i).wait = LockWait{kind, 0x5000u + static_cast<uint64_t>(i), owner, name};
  }
  void InRead(int i, const std::string& what) {
    Raw(i).syscall_nr = SYS_read;
    T(i).call.kind = BlockKind::kFd;
    T(i).call.name = "read";
    T(i).call.text = "read() on fd 3: " + what;
  }
  Verdict Decide() { return DecideVerdict(model_); }

  Snapshot snap_;
  ReportModel model_;
};

TEST_F(VerdictTest, CrashIsItsOwnCause) {
  snap_.kind = "crash";
  snap_.signal.signo = SIGSEGV;
  snap_.signal.tid = 2;
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kCrash);
  EXPECT_EQ(v.culprit, 1);
  EXPECT_EQ(v.text,
            "crash: thread 2 \"worker\" got SIGSEGV in Code2() at code.cc:20");
  EXPECT_TRUE(v.has_where);
  EXPECT_EQ(v.where.line, 20);
}

TEST_F(VerdictTest, DeadlockReachedFromTheTestThreadStartsThere) {
  Waits(0, WaitKind::kJoin, 2, "");
  Waits(1, WaitKind::kMutex, 3, "g_b");
  Waits(2, WaitKind::kMutex, 2, "g_a");
  model_.cycles.push_back(DeadlockCycle{{1, 2}});
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kDeadlock);
  EXPECT_THAT(v.chain, ElementsAre(0, 1, 2));
  EXPECT_EQ(v.culprit, 1);
  EXPECT_EQ(v.text,
            "deadlock: thread 2 \"worker\" and thread 3 \"io\" each hold a "
            "lock the other waits for: mutex g_b (0x5001) and mutex g_a "
            "(0x5002) — 2 in Code2() at code.cc:20; 3 in Code3() at "
            "code.cc:30; thread 1 \"main\" waits to join thread 2 "
            "\"worker\"");
}

TEST_F(VerdictTest, DeadlockOfThreeAndOfOne) {
  Waits(0, WaitKind::kMutex, 2, "g_a");
  Waits(1, WaitKind::kMutex, 3, "g_b");
  Waits(2, WaitKind::kMutex, 1, "g_c");
  model_.cycles.push_back(DeadlockCycle{{0, 1, 2}});
  Verdict v = Decide();
  EXPECT_THAT(v.chain, ElementsAre(0, 1, 2));
  EXPECT_THAT(v.text,
              StartsWith("deadlock: thread 1 \"main\", thread 2 \"worker\", "
                         "thread 3 \"io\" wait for each other in a cycle over "
                         "mutex g_a (0x5000), mutex g_b (0x5001), mutex g_c "
                         "(0x5002) — 1 in Code1() at code.cc:10;"));
  model_.cycles = {DeadlockCycle{{1}}};
  Waits(0, WaitKind::kNone, 0, "");
  Waits(1, WaitKind::kMutex, 2, "g_self");
  v = Decide();
  EXPECT_THAT(v.chain, ElementsAre(1));
  EXPECT_EQ(v.text,
            "deadlock: thread 2 \"worker\" waits for mutex g_self (0x5001), "
            "which it holds itself — 2 in Code2() at code.cc:20");
}

TEST_F(VerdictTest, DeadlockElsewhereIsStillTheVerdict) {
  // The test waits on a condition; two other threads deadlock.
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  Waits(1, WaitKind::kMutex, 3, "g_b");
  Waits(2, WaitKind::kMutex, 2, "g_a");
  model_.cycles.push_back(DeadlockCycle{{1, 2}});
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kDeadlock);
  EXPECT_THAT(v.chain, ElementsAre(1, 2));
  EXPECT_THAT(v.text, StartsWith("deadlock: thread 2 \"worker\" and thread 3"));
}

TEST_F(VerdictTest, BusyThreadAtTheEndOfAMutexChain) {
  Waits(0, WaitKind::kMutex, 2, "g_m");
  Raw(1).state = 'R';
  Raw(1).syscall_nr = kSyscallRunning;
  T(1).call = BlockingCall();
  T(1).call.kind = BlockKind::kRunning;
  Cpu(1, 240'000'000, 0, 0);
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBusy);
  EXPECT_THAT(v.chain, ElementsAre(0, 1));
  EXPECT_EQ(v.text,
            "busy: thread 1 \"main\" waits for mutex g_m (0x5000) held by "
            "thread 2 \"worker\", which is running, not waiting (96% of a CPU "
            "over 250 ms), in Code2() at code.cc:20");
}

TEST_F(VerdictTest, OnALoadedMachineWaitingForACpuCountsAsBusy) {
  Cpu(0, 75'000'000, 150'000'000, 0);  // 30% on a CPU, 60% queued
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBusy);
  EXPECT_THAT(v.text, HasSubstr("(30% of a CPU over 250 ms, and 60% waiting "
                                "for one)"));
}

TEST_F(VerdictTest, BusyThresholdIsHalfTheInterval) {
  Cpu(0, kInterval / 2, 0, 0);
  EXPECT_TRUE(IsBusy(T(0)));
  Cpu(0, kInterval / 2 - 1'000'000, 0, 0);
  EXPECT_FALSE(IsBusy(T(0)));
  Cpu(0, 0, kInterval, 0);  // queued all along but never ran: not "busy"
  EXPECT_FALSE(IsBusy(T(0)));
  Raw(0).interval_ns = -1;  // not measured
  Cpu(0, -1, -1, -1);
  EXPECT_FALSE(IsBusy(T(0)));
  EXPECT_FALSE(IsSlow(T(0)));
}

TEST_F(VerdictTest, BlockedOutsideTheProcess) {
  InRead(0, "pipe (read end; write end held by this process (fd 4))");
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBlocked);
  EXPECT_EQ(v.culprit, 0);
  EXPECT_EQ(v.text,
            "blocked: thread 1 \"main\" waits in read() on fd 3: pipe (read "
            "end; write end held by this process (fd 4)), in Code1() at "
            "code.cc:10");
}

TEST_F(VerdictTest, BlockedThroughAMutexOwner) {
  Waits(0, WaitKind::kMutex, 3, "g_io");
  InRead(2, "pipe (read end)");
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBlocked);
  EXPECT_THAT(v.chain, ElementsAre(0, 2));
  EXPECT_EQ(v.text,
            "blocked: thread 1 \"main\" waits for mutex g_io (0x5000) held by "
            "thread 3 \"io\", which waits in read() on fd 3: pipe (read end), "
            "in Code3() at code.cc:30");
}

TEST_F(VerdictTest, ManyWakeupsInOneSpotIsPolling) {
  Raw(0).syscall_nr = SYS_clock_nanosleep;
  T(0).call.kind = BlockKind::kSleep;
  T(0).call.text = "clock_nanosleep() for 2 ms (CLOCK_REALTIME)";
  Cpu(0, 5'000'000, 0, 110);
  T(0).motion = Motion::kSameSpot;
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kPolling);
  EXPECT_EQ(v.text,
            "polling: thread 1 \"main\" keeps waking up in the same spot (woke "
            "up 110 times in 250 ms, using 2% of a CPU), now waits in "
            "clock_nanosleep() for 2 ms (CLOCK_REALTIME), in Code1() at "
            "code.cc:10, and no other thread makes progress: it may be polling "
            "for something that never happens");
  // Its stack moves: it gets somewhere, in small steps.
  T(0).motion = Motion::kMoved;
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_THAT(v.text, StartsWith("slow, not stuck: thread 1 \"main\" keeps "
                                 "waking up (woke up 110 times in 250 ms, "
                                 "using 2% of a CPU), its stack moving "
                                 "between samples, in Code1() at code.cc:10"));
  // In one spot, but another thread works: it polls for that work.
  T(0).motion = Motion::kSameSpot;
  Cpu(1, 60'000'000, 0, 40);
  T(1).motion = Motion::kMoved;
  EXPECT_EQ(Decide().kind, VerdictKind::kSlow);
}

// A thread back in the same timed wait after waking up once in the window
// (`while (!done) cv.wait_for(100ms)`) polls: a hang, when nothing else
// moves.
TEST_F(VerdictTest, TimedWaitWokenOnceInTheSameSpotIsPolling) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  Raw(0).syscall_args[1] = 0x189;  // FUTEX_WAIT_BITSET_PRIVATE
  Raw(0).syscall_args[3] = 0x7ffd0000;
  T(0).call.timeout_left_ns = 40'000'000;
  Cpu(0, 100'000, 0, 1);
  T(0).motion = Motion::kSameSpot;
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kPolling);
  EXPECT_THAT(v.text, HasSubstr("keeps waking up in the same spot (woke up 1 "
                                "times in 250 ms, using 0% of a CPU), now "
                                "waiting on condition variable g_cv"));
}

// A 100 ms sleep-poll seen between wake-ups: 75 ms left in a test that
// has run for 13 s is one turn of a loop, not the test's long wait.
TEST_F(VerdictTest, ShortTimedWaitInALongTestIsPolling) {
  snap_.limit_ns = 13'000'000'000;
  snap_.elapsed_ns = 13'000'000'000;
  Raw(0).syscall_nr = SYS_clock_nanosleep;
  T(0).call.kind = BlockKind::kSleep;
  T(0).call.sleep_ns = 75'000'000;
  T(0).call.text = "clock_nanosleep() with 75 ms left (CLOCK_REALTIME)";
  T(0).motion = Motion::kIdle;
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kPolling);
  EXPECT_EQ(
      v.text,
      "polling: thread 1 \"main\" waits in clock_nanosleep() with 75 ms "
      "left (CLOCK_REALTIME), in Code1() at code.cc:10 — a short wait in "
      "a test running for 13.00 s: most likely one turn of a poll, and no "
      "other thread makes progress: it may be polling for something that "
      "never happens");
  // A wait that may span the test is not.
  T(0).call.sleep_ns = 2'000'000'000;
  EXPECT_EQ(Decide().kind, VerdictKind::kSlow);
}

// The test waits for a notify; the one thread that does anything polls in
// one spot: the verdict is about that poll.
TEST_F(VerdictTest, NotifyAfterALonePollIsThatPoll) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  Raw(2).syscall_nr = SYS_clock_nanosleep;
  T(2).call.kind = BlockKind::kSleep;
  T(2).call.sleep_ns = 5'000'000;
  T(2).call.text = "clock_nanosleep() with 5 ms left (CLOCK_REALTIME)";
  Cpu(2, 10'000, 0, 1);
  T(2).motion = Motion::kSameSpot;
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kPolling);
  EXPECT_EQ(v.culprit, 2);
  EXPECT_EQ(
      v.text,
      "polling: thread 3 \"io\" keeps waking up in the same spot, now "
      "waits in clock_nanosleep() with 5 ms left (CLOCK_REALTIME), in "
      "Code3() at code.cc:30, while thread 1 \"main\" waits on condition "
      "variable g_cv (0x5000), in Code1() at code.cc:10, and nothing else "
      "runs: the notify most likely waits for that poll, which never "
      "ends");
  // No second sample of it, but woken up again and again into a sleep:
  // the same poll.
  T(2).motion = Motion::kUnknown;
  Cpu(2, 10'000, 0, 9);
  EXPECT_EQ(Decide().kind, VerdictKind::kPolling);
  // Woken once, no second sample: not enough to call it a poll.
  Cpu(2, 10'000, 0, 1);
  EXPECT_EQ(Decide().kind, VerdictKind::kNoClearCause);
  Cpu(2, 10'000, 0, 1);
  T(2).motion = Motion::kSameSpot;
  // A second thread doing something: no longer the only suspect.
  InRead(1, "pipe (read end)");
  EXPECT_EQ(Decide().kind, VerdictKind::kNoClearCause);
}

// The leveldb DBTest.MultiThreaded shape: the test thread sleeps through
// the test's duration while workers do the work.
TEST_F(VerdictTest, SleepWithTimeLeftWhileOthersWorkIsSlow) {
  snap_.limit_ns = 5'000'000'000;
  Raw(0).syscall_nr = SYS_clock_nanosleep;
  T(0).call.kind = BlockKind::kSleep;
  T(0).call.sleep_ns = 4'900'000'000;
  T(0).call.text = "clock_nanosleep() with 4.90 s left (CLOCK_REALTIME)";
  T(0).motion = Motion::kIdle;
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_EQ(v.text,
            "slow, not stuck: thread 1 \"main\" waits in clock_nanosleep() "
            "with 4.90 s left (CLOCK_REALTIME), in Code1() at code.cc:10: it "
            "may still finish; the limit (5.00 s) may be too short");
  EXPECT_EQ(v.time_spent.samples, 0);
  // An hour left under a limit of seconds: no longer within reach.
  T(0).call.sleep_ns = 3'600'000'000'000;
  EXPECT_EQ(Decide().kind, VerdictKind::kBlocked);

  for (int i : {1, 2}) {
    Cpu(i, 70'000'000, 0, 30);
    T(i).motion = Motion::kMoved;
    T(i).samples = {{Fn("Work() [clone .constprop.0]", "/src/work.cc", 7)},
                    {Fn("Code" + std::to_string(i + 1) + "()", "/src/code.cc",
                        10 * (i + 1))}};
  }
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_EQ(v.time_spent.threads, 2);
  EXPECT_EQ(v.time_spent.samples, 6);
  ASSERT_EQ(v.time_spent.spots.size(), 3u);
  EXPECT_EQ(v.time_spent.spots[0].where.function, "Code2()");
  // GCC's specialised copy is named as the function.
  EXPECT_EQ(v.time_spent.spots[0].count, 2);
  EXPECT_THAT(
      v.text,
      HasSubstr("may be too short; meanwhile 2 other threads work, "
                "their stacks moving between samples — where the time "
                "went (6 samples of 2 threads): Code2() at code.cc:20 ×2, "
                "Work() at work.cc:7 ×2, Code3() at code.cc:30 ×2"));
}

TEST_F(VerdictTest, BusyInOneSpotIsBusyAndMovingIsSlow) {
  Raw(0).syscall_nr = -1;
  T(0).call.kind = BlockKind::kRunning;
  Cpu(0, kInterval, 0, 3);
  T(0).motion = Motion::kSameSpot;
  T(0).samples = {T(0).frames, T(0).frames};
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBusy);
  EXPECT_EQ(v.text,
            "busy: thread 1 \"main\" is running, not waiting (100% of a CPU "
            "over 250 ms), in Code1() at code.cc:10, the same spot in all 3 "
            "samples");
  // Spinning in a lock while another thread works: contention (re2's
  // Multithreaded.SearchDFA), not a loop that gets nowhere.
  T(0).frames.insert(T(0).frames.begin(), Fn("absl::Mutex::Lock()", "", 0));
  EXPECT_EQ(Decide().kind, VerdictKind::kBusy);  // nobody else works
  Cpu(1, 60'000'000, 0, 30);
  T(1).motion = Motion::kMoved;
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_THAT(v.text, StartsWith("slow, not stuck: thread 1 \"main\" spins "
                                 "for a lock (100% of a CPU), in Code1() at "
                                 "code.cc:10; meanwhile 1 other thread works"));
  T(0).frames.erase(T(0).frames.begin());
  Cpu(1, 0, 0, 0);
  T(1).motion = Motion::kIdle;
  T(0).motion = Motion::kMoved;
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_THAT(v.text, StartsWith("slow, not stuck: thread 1 \"main\" is "
                                 "working (100% of a CPU), its stack moving "
                                 "between samples, in Code1() at code.cc:10 — "
                                 "where the time went (3 samples of 1 "
                                 "thread): Code1() at code.cc:10 ×3"));
}

// Waiting to join a worker that works, or on a condition while workers
// work: not blocked, slow.
TEST_F(VerdictTest, WaitingForThreadsThatWorkIsSlow) {
  T(0).wait = LockWait{WaitKind::kJoin, 0x1002, 2, ""};
  Cpu(1, kInterval, 0, 5);
  T(1).motion = Motion::kMoved;
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_THAT(v.chain, ElementsAre(0, 1));
  EXPECT_THAT(v.text, StartsWith("slow, not stuck: thread 1 \"main\" waits to "
                                 "join thread 2 \"worker\", which is working "
                                 "(100% of a CPU)"));
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kSlow);
  EXPECT_THAT(v.text, StartsWith("slow, not stuck: thread 1 \"main\" is "
                                 "waiting on condition variable g_cv"));
  EXPECT_THAT(v.text, HasSubstr("; meanwhile 1 other thread works"));
  // A busy thread that stays in one spot is no progress: no clear cause.
  T(1).motion = Motion::kSameSpot;
  EXPECT_EQ(Decide().kind, VerdictKind::kNoClearCause);
}

TEST_F(VerdictTest, ConditionNobodyCanNotify) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  // The watchdog itself runs: it does not count.
  Cpu(3, kInterval, 0, 0);
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNotify);
  EXPECT_EQ(v.text,
            "waiting for a notify: thread 1 \"main\" waits on condition "
            "variable g_cv (0x5000), in Code1() at code.cc:10, and no other "
            "thread is running or waiting on anything outside the process: "
            "nothing may ever notify it");
}

TEST_F(VerdictTest, ConditionWhileOthersWorkHasNoClearCause) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  Cpu(1, 200'000'000, 0, 0);
  InRead(2, "pipe (read end)");
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_THAT(v.candidates, ElementsAre(1, 2));
  EXPECT_EQ(v.text,
            "no clear cause: thread 1 \"main\" is waiting on condition "
            "variable g_cv (0x5000) (for a notify; holds no lock while "
            "waiting), in Code1() at code.cc:10; it may be waiting for thread "
            "2 \"worker\", which is running, not waiting (80% of a CPU over "
            "250 ms), in Code2() at code.cc:20; or thread 3 \"io\", which "
            "waits in read() on fd 3: pipe (read end), in Code3() at "
            "code.cc:30");
}

// A thread that wakes up by itself — a timed wait, a polling loop — may be
// the one to notify: the condition is then no "nothing can notify it".
TEST_F(VerdictTest, TimedWaitersAndCrawlingThreadsMayStillNotify) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  Raw(1).syscall_args[1] = 0x189;       // FUTEX_WAIT_BITSET_PRIVATE
  Raw(1).syscall_args[3] = 0x7ffd0000;  // with a timeout
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_THAT(v.candidates, ElementsAre(1));
  Raw(1).syscall_args[3] = 0;  // no timeout: it cannot wake by itself
  EXPECT_EQ(Decide().kind, VerdictKind::kNotify);
  Cpu(2, 1'000'000, 0, 30);  // waking up 30 times: crawling along
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_THAT(v.candidates, ElementsAre(2));
  // A thread waiting for a signal is not counted.
  Cpu(2, 0, 0, 0);
  Raw(2).syscall_nr = SYS_rt_sigtimedwait;
  T(2).call.kind = BlockKind::kSignal;
  T(2).call.text = "rt_sigtimedwait(), waiting for SIGTERM";
  EXPECT_EQ(Decide().kind, VerdictKind::kNotify);
  // Nor one waiting for the process's memory map (another thread of ours).
  T(2).call.kind = BlockKind::kMemory;
  EXPECT_EQ(Decide().kind, VerdictKind::kNotify);
  // Nor ThreadSanitizer's background thread, sleeping 100 ms at a time.
  T(2).call.kind = BlockKind::kSleep;
  T(2).call.text = "nanosleep() for 100 ms";
  EXPECT_EQ(Decide().kind, VerdictKind::kNoClearCause);
  T(2).frames = {Fn("__sanitizer::internal_usleep(unsigned long long)",
                    "../../../../src/libsanitizer/sanitizer_linux.cpp", 460),
                 Fn("__tsan::BackgroundThread(void*)",
                    "../../../../src/libsanitizer/tsan/tsan_rtl.cpp", 208)};
  EXPECT_EQ(Decide().kind, VerdictKind::kNotify);
}

TEST_F(VerdictTest, SemaphoreWithNothingElseGoingOnHasNoClearCause) {
  T(0).wait.kind = WaitKind::kOtherFutex;
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_THAT(v.candidates, IsEmpty());
  EXPECT_EQ(v.text,
            "no clear cause: thread 1 \"main\" waits on futex 0x1001, which is "
            "no lock with a known owner (a semaphore, a custom lock or event), "
            "in Code1() at code.cc:10; no thread is busy, blocked outside the "
            "process or in a deadlock");
}

TEST_F(VerdictTest, TestThreadInterruptedByTheReportedSignal) {
  snap_.kind = "signal";
  snap_.signal.signo = SIGQUIT;
  snap_.signal.tid = 1;
  InRead(2, "pipe (read end)");
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_EQ(v.text,
            "no clear cause: thread 1 \"main\" was interrupted by SIGQUIT in "
            "Code1() at code.cc:10, so what it waited for is not known; it "
            "may be waiting for thread 3 \"io\", which waits in read() on fd "
            "3: pipe (read end), in Code3() at code.cc:30");
}

// The interrupted call was recovered from the saved registers: the verdict
// is about it; a thread interrupted in user code cannot be measured.
TEST_F(VerdictTest, SignalledThreadWithTheCallItWasIn) {
  snap_.kind = "signal";
  snap_.signal.signo = SIGQUIT;
  snap_.signal.tid = 1;
  InRead(0, "pipe (read end)");
  Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kBlocked);
  EXPECT_EQ(v.text,
            "blocked: thread 1 \"main\" was waiting, when SIGQUIT came, in "
            "read() on fd 3: pipe (read end), in Code1() at code.cc:10");
  T(0).call = BlockingCall();
  T(0).call.kind = BlockKind::kRunning;
  v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_EQ(v.text,
            "no clear cause: thread 1 \"main\" was running (not in a system "
            "call) when SIGQUIT came, in Code1() at code.cc:10; whether it was "
            "looping cannot be measured while it is held for the report");
  // Waiting for a mutex whose owner is unknown: said as such.
  T(0).call.kind = BlockKind::kFutex;
  Waits(0, WaitKind::kMutex, 0, "g_m");
  EXPECT_EQ(Decide().text,
            "no clear cause: thread 1 \"main\" was blocked on mutex g_m "
            "(0x5000), owner unknown, when SIGQUIT came, in Code1() at "
            "code.cc:10");
}

TEST_F(VerdictTest, CandidatesAreCappedAndCounted) {
  Waits(0, WaitKind::kCondition, 0, "g_cv");
  for (int i = 0; i < 5; ++i) {
    SnapshotThread t = Raw(1);
    t.tid = 20 + i;
    snap_.threads.push_back(t);
  }
  // Pointers into snap_.threads moved: rebuild the model's.
  std::deque<ThreadModel> keep(model_.threads.begin(), model_.threads.end());
  model_.threads.clear();
  for (const SnapshotThread& t : snap_.threads) {
    ThreadModel m = t.tid <= 9 ? keep[model_.threads.size()] : keep[1];
    m.raw = &t;
    model_.threads.push_back(m);
  }
  for (size_t i = 4; i < model_.threads.size(); ++i) {
    Cpu(static_cast<int>(i), kInterval, 0, 0);
  }
  const Verdict v = Decide();
  EXPECT_EQ(v.kind, VerdictKind::kNoClearCause);
  EXPECT_EQ(v.candidates.size(), 3u);
  EXPECT_THAT(v.text, HasSubstr("; or 2 more"));
}

TEST_F(VerdictTest, NoThreadsAtAll) {
  model_.threads.clear();
  model_.test_thread = -1;
  EXPECT_EQ(Decide().kind, VerdictKind::kNoClearCause);
}

TEST(VerdictKindIdTest, Ids) {
  EXPECT_STREQ(VerdictKindId(VerdictKind::kDeadlock), "deadlock");
  EXPECT_STREQ(VerdictKindId(VerdictKind::kSlow), "slow");
  EXPECT_STREQ(VerdictKindId(VerdictKind::kPolling), "polling");
  EXPECT_STREQ(VerdictKindId(VerdictKind::kNotify), "waiting-for-notify");
  EXPECT_STREQ(VerdictKindId(VerdictKind::kNoClearCause), "no-clear-cause");
  EXPECT_STREQ(VerdictKindId(VerdictKind::kNone), "");
}

}  // namespace
}  // namespace gtest_watchdog_internal
