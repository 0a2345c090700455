// File: gtest_watchdog/diagnose/verdict.h
//
// The verdict: the report's first words after the headline, saying in a few
// lines why the test is stuck, so a developer reading a CI log knows the
// cause before reading any stack. The rules (docs/verdict.md):
//
//  1. A crash is its own cause.
//  2. Any deadlock cycle: the cycle (and how the test thread reaches it).
//  3. Otherwise follow the wait chain from the thread running the test:
//     from a thread waiting for a mutex or rwlock to its owner, from a join
//     to the joined thread, to the thread at the end. That thread decides,
//     with "working" threads being those that ran in the CPU window and
//     whose stacks moved between samples (diagnose/progress.h):
//     - runnable for at least half the window: slow, not stuck, if its
//       stack moved; else busy (a loop that never leaves one spot);
//     - it keeps waking up (at least kSlowWakeups times), or it is back in
//       the same timed wait after waking up: slow, not stuck, if its stack
//       moved or others work; else polling;
//     - one timed wait (a sleep, a timed futex wait, a poll with a
//       timeout) it has not woken from: slow, not stuck — it may still
//       finish, with the time left;
//     - it waits inside the process (a condition, an event, a lock with
//       no known owner) while others work: slow, not stuck;
//     - it sits in a system call on something outside the process (a
//       descriptor, a child process, a signal): blocked, and on what;
//     - it waits on a condition variable and no other thread is busy or
//       blocked outside the process: waiting for a notify nothing can send;
//     - anything else (a semaphore, a lock whose owner is unknown, a
//       condition variable while other threads may still notify it, a
//       thread interrupted by the reported signal): no clear cause, with
//       the candidates it could be waiting for, rather than a guess.
//
// Report helper process only: allocates, not signal-safe. Pure: reads the
// model only.
#pragma once

#include "gtest_watchdog/diagnose/report_model.h"

namespace gtest_watchdog_internal {

// A thread that was runnable — on a CPU, or waiting for one on a loaded
// machine — for at least this share of the sampling interval is busy.
constexpr double kBusyShare = 0.5;
// ... and ran on one for at least this share: a poller woken up on a
// starved machine waits for a CPU too, but barely runs when it gets one.
constexpr double kBusyCpuShare = 0.1;
// Put on a CPU at least this many times between the samples (woken up,
// mostly), while not busy: the thread's progress is "slow", not stuck.
constexpr int64_t kSlowWakeups = 2;

// True when the thread was runnable for at least kBusyShare of the
// interval (and ran at all). Helper process only.
bool IsBusy(const ThreadModel& t);
// True when not busy but woken up at least kSlowWakeups times.
// Helper process only.
bool IsSlow(const ThreadModel& t);
// Percent of the interval the thread was on a CPU / waited for one.
// Helper process only.
int CpuPercent(const ThreadModel& t);
int QueuedPercent(const ThreadModel& t);

// Decides the verdict for a model whose threads, waits, calls and cycles
// are filled in. Helper process only.
Verdict DecideVerdict(const ReportModel& model);

}  // namespace gtest_watchdog_internal
