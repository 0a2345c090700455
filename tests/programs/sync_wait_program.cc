// File: tests/programs/sync_wait_program.cc
//
// Stalls on Abseil's synchronization primitives, which wait through
// per-thread futex words rather than the object's: a Notification never
// notified, a BlockingCounter that never reaches zero, a Barrier missing a
// party, a CondVar never signalled, an absl::Mutex held by a thread blocked
// reading a pipe, and LockWhen on a Condition that never holds (with and
// without a timeout), and two threads taking two absl::Mutexes in opposite
// order (a deadlock). Run by tests/integration/sync_wait_test with
// --gtest_filter=SyncWait.<Name> --gtest_watchdog_timeout=1s.
// `// @block:NAME` marks where a thread blocks.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

absl::Notification g_ready;

TEST(SyncWait, NotificationNeverNotified) {
  g_ready.WaitForNotification();  // @block:notification
  // Not a tail call: the test's frame stays on the stack.
  EXPECT_TRUE(g_ready.HasBeenNotified());
}

absl::BlockingCounter g_pending(2);

TEST(SyncWait, BlockingCounterNeverZero) {
  g_pending.DecrementCount();
  g_pending.Wait();  // @block:counter
  printf("counted down\n");
}

absl::Barrier g_start_line(2);

TEST(SyncWait, BarrierMissingAParty) {
  const bool last = g_start_line.Block();  // @block:barrier
  printf("passed the barrier (last: %d)\n", last);
}

absl::Mutex g_queue_mu;
absl::CondVar g_queue_cv;
bool g_queue_ready = false;

TEST(SyncWait, CondVarNeverSignalled) {
  absl::MutexLock lock(&g_queue_mu);
  while (!g_queue_ready) g_queue_cv.Wait(&g_queue_mu);  // @block:condvar
}

absl::Mutex g_io;

// Locks g_io, then reads a pipe whose write end this process keeps open.
void ReadHoldingTheLock(int fd, std::atomic<bool>* holding) {
  pthread_setname_np(pthread_self(), "io");
  absl::MutexLock lock(&g_io);
  char buffer[64];
  holding->store(true);
  const ssize_t n = read(fd, buffer, sizeof(buffer));  // @block:io_read
  printf("read returned %zd\n", n);
}

TEST(SyncWait, MutexHeldByReader) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<bool> holding{false};
  std::thread io(ReadHoldingTheLock, fds[0], &holding);
  while (!holding.load()) std::this_thread::yield();
  {
    absl::MutexLock lock(&g_io);  // @block:io_lock
  }
  io.join();
  close(fds[0]);
  close(fds[1]);
}

absl::Mutex g_first_mu;
absl::Mutex g_second_mu;

// Holds `a`, waits until the other thread holds its first mutex, then
// wants `b`.
void TakeThenWant(absl::Mutex* a, absl::Mutex* b, absl::Barrier* both,
                  const char* name) {
  pthread_setname_np(pthread_self(), name);
  absl::MutexLock hold(a);
  both->Block();
  absl::MutexLock want(b);  // @block:abba
}

// Two threads take two absl::Mutexes in opposite order. Abseil's debug
// build aborts on the inversion by default; reporting it instead lets the
// deadlock happen, as in a release build, while the held-locks lists that
// name the owners are still kept.
TEST(SyncWait, OppositeOrderDeadlock) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kReport);
  auto* both = new absl::Barrier(2);  // never freed: both threads hang
  std::thread first(TakeThenWant, &g_first_mu, &g_second_mu, both, "first");
  std::thread second(TakeThenWant, &g_second_mu, &g_first_mu, both, "second");
  first.join();
  second.join();
}

absl::Mutex g_state_mu;
bool g_started = false;

TEST(SyncWait, LockWhenNeverTrue) {
  g_state_mu.LockWhen(absl::Condition(&g_started));  // @block:lock_when
  g_state_mu.Unlock();
}

TEST(SyncWait, LockWhenWithTimeoutNeverTrue) {
  const absl::Condition started(&g_started);
  const absl::Duration hour = absl::Hours(1);
  const bool ok =
      g_state_mu.LockWhenWithTimeout(started, hour);  // @block:timed
  g_state_mu.Unlock();
  EXPECT_FALSE(ok);
}

// An absl::Mutex held across a one-hour absl::SleepFor (re2 shape, injected):
// the test waits for the lock; its owner sleeps far past any limit.
absl::Mutex g_results_mu;

void SleepHoldingTheLock(std::atomic<bool>* holding) {
  pthread_setname_np(pthread_self(), "sleeper");
  absl::MutexLock lock(&g_results_mu);
  holding->store(true);
  absl::SleepFor(absl::Hours(1));  // @block:sleep_holding
}

TEST(SyncWait, MutexHeldAcrossALongSleep) {
  std::atomic<bool> holding{false};
  std::thread sleeper(SleepHoldingTheLock, &holding);
  while (!holding.load()) std::this_thread::yield();
  {
    absl::MutexLock lock(&g_results_mu);  // @block:results_lock
  }
  sleeper.join();
}

// `while (!done) cv.WaitWithTimeout(&mu, 100ms)` on an absl::CondVar, and
// the worker that would set done has gone: a poll that never ends.
absl::Mutex g_poll_mu;
absl::CondVar g_poll_cv;
bool g_poll_done = false;

TEST(SyncWait, CondVarTimedPollNeverEnds) {
  std::thread([] {}).join();  // forgets to set g_poll_done
  absl::MutexLock lock(&g_poll_mu);
  const absl::Duration period = absl::Milliseconds(100);
  while (!g_poll_done) {
    g_poll_cv.WaitWithTimeout(&g_poll_mu, period);  // @block:cv_poll
  }
}

}  // namespace
