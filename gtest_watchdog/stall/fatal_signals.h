// File: gtest_watchdog/stall/fatal_signals.h
//
// Crashes and chosen signals (config/signal_list.h) get the same report as a
// stall. Our handler, on whichever thread the signal hit:
//   1. records the signal, its code, the fault address or the sender, and
//      the thread's own stack from the interrupted instruction outwards
//      (unwound from the signal context, so the handler's frames are not
//      in it);
//   2. hands that to the watchdog thread (DeadlineBoard::RequestReport),
//      which writes the report, the JSON report and GoogleTest's output
//      exactly as for a stall, with every other thread still in place;
//   3. waits until the report is out, then passes the signal on: to the
//      handler installed before ours (Abseil's failure handler, the
//      program's own, AddressSanitizer's), and if that returns, to the
//      default action, re-raised, so the process dies by the original
//      signal and a core dump is taken where the system is set up for one.
//
// A forked child (a "fast" death test, a test's own fork) passes every signal
// straight on: its parent's watchdog reports the test. A second signal while
// a report is being written parks its thread: the process is ending anyway.
// An alternate signal stack is set up for the thread that runs the tests, so
// a stack overflow there is reported too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "gtest_watchdog/base/signal_name.h"  // SignalSet
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/watch/deadline_board.h"

namespace gtest_watchdog_internal {

// What the handler saw, for the report. Written once by the one handler that
// claimed the report, read by the watchdog thread after it was published.
struct SignalEvent {
  SignalFacts facts;
  uint64_t pc = 0;    // where the thread was interrupted
  ThreadStack stack;  // its frames from pc outwards (at least pc itself)
};

class FatalSignals {
 public:
  // Installs our handler for every signal in `set` that the program does
  // not ignore, remembering the handler it replaces, and an alternate
  // signal stack for the calling thread unless it has one. Start-up only:
  // not signal-safe. False with *error if a handler cannot be installed.
  static bool Install(SignalSet set, DeadlineBoard* board, std::string* error);
  // The thread that writes reports: a signal there is the report's own
  // failure and is passed on at once. Signal-safe.
  static void SetReportingThread(pid_t tid);
  // The watchdog thread has been started (it may not run yet): from now on
  // a signal is handed over to it; before, it is passed on unreported.
  // Signal-safe.
  static void SetReporterStarted();

  // The event to report, once DeadlineBoard::report_requested() is set;
  // null before. Signal-safe.
  static const SignalEvent* Pending();

  // The report is out: the thread that received the signal passes it on.
  // Signal-safe.
  static void HandBack();
};

}  // namespace gtest_watchdog_internal
