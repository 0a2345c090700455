// File: gtest_watchdog/diagnose/progress.h
//
// Evidence over time: whether each thread's stack moved between the
// report's samples, and where the working threads spent their time (a poor
// man's profiler over those samples). The verdict uses both to tell a slow
// test from a stuck one (docs/verdict.md, "Evidence over time").
//
// Report helper process only: allocates, not signal-safe. Pure: reads the
// model only.
#pragma once

#include <string>
#include <vector>

#include "gtest_watchdog/diagnose/report_model.h"

namespace gtest_watchdog_internal {

// Where a stack stands, for comparing samples: the first frame in the
// user's code (its function, not its line: a loop's lines alternate) and
// every frame outside it (function and line: the calls that led there).
// With no user frame, the innermost frame's function. Helper process only.
std::string StackSpot(const std::vector<SourceFrame>& frames);

// kIdle when the CPU window saw the thread neither run nor wake up; else
// kMoved / kSameSpot from its samples' spots; kUnknown without a second
// sample or CPU figures. Helper process only.
Motion DecideMotion(const ThreadModel& t);

// The first-user-frame spots of every sample of `threads` (indices into
// m.threads), most seen first (ties: first seen first), at most
// `max_spots`. Helper process only.
TimeSpent SummarizeSamples(const ReportModel& m,
                           const std::vector<int>& threads, size_t max_spots);

// Whether the thread's innermost frames, up to the user's code, are taking
// a lock (a spinning mutex, a spin lock): busy there, it waits for whoever
// holds it. Helper process only.
bool AcquiringALock(const ThreadModel& t);

// "where the time went (12 samples of 4 threads): f(…) at a.cc:12 ×6, …".
// Helper process only.
std::string TimeSpentText(const TimeSpent& spent);

}  // namespace gtest_watchdog_internal
