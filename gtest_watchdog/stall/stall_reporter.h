// File: gtest_watchdog/stall/stall_reporter.h
//
// The stall path, run by the watchdog thread when a deadline passes (the
// sequence is in stall_reporter.cc; each step names the file in stall/ that
// does it):
//   1. arm the dead-man timer (dead_man.h);
//   2. list the threads and read what the kernel says about each
//      (thread_census.h; the room left on their stacks: stack_room.h);
//   3. ask every thread that can answer to unwind itself (signal handler:
//      dump/stack_collector.h);
//   4. write the snapshot to an in-memory file and start the report helper
//      (helper_launch.h: this same executable, re-executed with posix_spawn
//      — never fork()), which symbolizes with libdw, formats and writes the
//      report to stderr; (it also unwinds threads that could not answer,
//      with ptrace — permitted to it alone, only while it runs — lists the
//      test's child processes, and writes the JSON report);
//   5. if the helper fails or times out, write the raw report here, with
//      module+offset for every frame (fallback_report.h);
//   6. stop (SIGSTOP) the test's child processes, so a test waiting for
//      one stays where it is (stall_reporter.cc);
//   7. best effort: fail the test in GoogleTest's XML/JSON output and have
//      GoogleTest write it (gtest_output_step.h; allocates: last, under the
//      dead-man timer);
//   8. write the closing line, kill the children, reset SIGABRT and
//      abort() (stall_reporter.cc).
// What it needs was made at start-up by Prepare (prepare.cc) and is kept in
// stall_state.h; exit_guard.h keeps a report and exit() from pulling
// GoogleTest's objects from under each other.
// Nothing on this path allocates with malloc, takes a lock another thread
// could hold, or uses stdio: memory comes from mmap, output from write(2).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "gtest_watchdog/watch/deadline_board.h"
#include "gtest_watchdog/watch/watchdog.h"

namespace gtest_watchdog_internal {

// The stall path's time budgets. Plain data, so that the stall path's own
// copy (stall/stall_state.h) needs no constructor at load time. Signal-safe.
struct StallPathTimings {
  int64_t answer_timeout_ns = 1000000000;   // threads' signal handlers
  int64_t helper_timeout_ns = 15000000000;  // symbolizing helper process
  int64_t dead_man_ns = 30000000000;        // everything
  // Between the two CPU samples that tell busy threads from waiting ones.
  int64_t cpu_sample_ns = 100000000;
  // Between the extra stack samples of the threads that ran in that
  // window (stall/stack_samples.h).
  int64_t stack_sample_gap_ns = 25000000;
};

// What Prepare() takes. Start-up only.
struct StallPathSettings : StallPathTimings {
  bool color = false;       // the report may use ANSI colours
  std::string json_report;  // absolute path, or empty: no JSON report
};

// The stall path's entry points, for init.cc and the watchdog thread.
// Signal-safe. (Prepare and AttachWatchdogThread say otherwise below.)
class StallReporter {
 public:
  // Prepares everything the stall path needs while allocating is still safe:
  // dups stderr, resolves the executable's real path, copies the
  // environment the report helper will get (so a later setenv cannot
  // change it), installs the stack signal handler. Start-up only. Returns
  // false (with a reason on stderr) if the stall path cannot work; the watchdog
  // then still aborts on a stall but reports less.
  static bool Prepare(const StallPathSettings& settings);

  // Called on the watchdog thread once it is running (dead-man timer aims at
  // it). Start-up only.
  static void AttachWatchdogThread();

  // Writes the report for `armed` (kFire: it overran at `now_ns`) or for
  // the whole run (kFireTotal: `total` overran; `armed` is what was
  // running) and aborts. Returns only when a debugger is attached: then it
  // prints one notice and the watchdog stands down for this event.
  // Signal-safe. (In the sense above: but for step 7.)
  static void ReportAndAbort(Action kind, const ArmedPhase& armed,
                             const TotalLimit& total, int64_t now_ns);

  // The report for a signal a handler handed over (stall/fatal_signals.h),
  // `armed` being the board as the handler froze it: the same steps, headed
  // by the signal; then the signalled thread passes the signal on and this
  // one parks until the process ends. Never returns. Signal-safe. (In the
  // sense above: but for step 7.)
  [[noreturn]] static void ReportSignal(const ArmedPhase& armed,
                                        int64_t now_ns);

  // One "[  SLOW    ]" line for a test past the slow-test mark. write(2)
  // only: never blocks on a stdio lock a stuck test may hold. Signal-safe.
  static void WarnSlow(const ArmedPhase& armed, int64_t now_ns);

  // Whether a debugger (any tracer) is attached: TracerPid in
  // /proc/self/status. Signal-safe.
  static bool DebuggerAttached();
};

}  // namespace gtest_watchdog_internal
