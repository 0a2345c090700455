// File: gtest_watchdog/stall/thread_census.h
//
// The threads a report covers, on the stall path: listing them (in the
// storage Prepare() mapped, or in more mapped for a bigger process), their
// CPU use over a short window, what the kernel says about each, which of
// them can be asked to unwind themselves in a signal handler (and why not
// the others), and, once they were asked, what came of it.
#pragma once

#include <sys/types.h>

#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/fatal_signals.h"

namespace gtest_watchdog_internal {

// The threads one report covers: `count` of them, entry i of every array
// about tids[i]. Signal-safe.
struct ThreadCensus {
  int count = 0;
  pid_t* tids = nullptr;
  KernelThreadInfo* kernel = nullptr;
  ThreadStack* stacks = nullptr;
  SnapshotThreadIn* in = nullptr;
  FutexWindow* futex = nullptr;  // may be null
  CpuSample* cpu = nullptr;      // may be null
};

// The thread that runs the tests, as the listener recorded it on the board;
// 0 if unknown. Signal-safe.
pid_t TestThread();

// Lists the process's threads. `ev` is the signal being reported, or null:
// without room for all of them, its thread and the test's are kept.
// Signal-safe.
ThreadCensus ListThreads(const SignalEvent* ev);

// What the kernel says about every listed thread (and, but for a crash,
// its CPU use over an interval), then whether to ask it for its stack:
// marks the stack kRequested, or gives the reason not to. `ev`'s thread's
// stack was taken by its handler and is not asked for again. Signal-safe.
void ReadThreads(const ThreadCensus& threads, const SnapshotHeader& header,
                 const SignalEvent* ev);

// After StackCollector::Collect: each thread's final stack status.
// Signal-safe.
void SettleStackStatuses(const ThreadCensus& threads);

}  // namespace gtest_watchdog_internal
