// File: gtest_watchdog/stall/stack_samples.h
//
// Evidence over time for the verdict. After every thread's first stack,
// the threads that ran during the CPU window (on a CPU, or woken up) are
// asked for their stacks kExtraStackSamples more times, a short gap apart,
// so the report can tell a stack that moves (work going on) from one that
// stays in one spot (a loop, a poll). The samples come after the CPU
// window, never in it: our signal handler would count as the thread's own
// work there. A thread that did not run in the window cannot have moved,
// and is not disturbed again.
#pragma once

#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/stall/fatal_signals.h"
#include "gtest_watchdog/stall/thread_census.h"

namespace gtest_watchdog_internal {

// Whether the CPU window saw the thread run (on a CPU, or woken up): only
// such a thread can have moved, and only it is sampled again (with its
// first stack taken, and not the watchdog or a signalled thread: see
// TakeExtraSamples). Signal-safe.
bool RanInWindow(const KernelThreadInfo& k);

// Picks up to kMaxSampledThreads such threads (the most runnable first),
// takes the extra samples into the slots Prepare() mapped, points their
// in[i].extra[k] at the answers, and sets header->extra_samples and
// sample_offset_ns. Returns how many threads were sampled (0: no thread
// ran, or no storage). Signal-safe: clock_nanosleep, signals, atomics; no
// allocation, no lock.
int TakeExtraSamples(const ThreadCensus& threads, SnapshotHeader* header,
                     const SignalEvent* ev);

}  // namespace gtest_watchdog_internal
