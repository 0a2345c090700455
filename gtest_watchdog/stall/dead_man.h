// File: gtest_watchdog/stall/dead_man.h
//
// The backstop behind the stall path: if writing a report itself hangs (a
// helper process wedged, a lock nobody should hold), a POSIX timer aimed at
// the reporting thread fires, one line saying the report is incomplete is
// written with write(2), and the process aborts anyway. Whatever part of the
// report was already written stays written.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace gtest_watchdog_internal {

class DeadMan {
 public:
  // Creates the timer aimed at the calling thread. Start-up only: call
  // once, from the thread that will write reports. `stderr_fd` is where the
  // last words go. Returns false if no timer could be created, or if no
  // real-time signal is free for our handler: then Arm() arms the raw
  // SIGABRT alone (no line is written, the process still ends).
  static bool InstallForThisThread(int stderr_fd);
  // Starts (or restarts) the countdown: after `after_ns` our handler writes
  // one line saying `what` did not finish and aborts; 2 s later a raw
  // SIGABRT ends the process even if the handler could not run.
  // `reset_sigabrt`: sets SIGABRT to SIG_DFL now, so that raw SIGABRT needs
  // no handler — right for a stall, which aborts anyway. A signal report
  // keeps its SIGABRT handler (another thread's abort() must not cut the
  // report short); its backstop is then a real-time signal nobody handles,
  // reset to its default action and unblocked on the calling thread.
  // `what` must live for ever. Signal-safe: timer_settime, sigaction.
  // No-op if not installed.
  static void Arm(int64_t after_ns, const char* what = "the report",
                  bool reset_sigabrt = true);
  // The signal the dead-man uses (0 if not installed). Signal-safe.
  static int signal_number();
  // The report helper's pid, killed when the dead-man fires. Signal-safe.
  static void SetHelperPid(pid_t pid);
  // The test's child processes, stopped while GoogleTest's output is
  // written: killed (SIGKILL) when the dead-man fires, so none outlives us.
  // `pids` must stay valid. Signal-safe.
  static void SetChildPids(const pid_t* pids, int n);
};

}  // namespace gtest_watchdog_internal
