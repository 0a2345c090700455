// File: gtest_watchdog/keep_going/test_child.h
//
// Keep going (docs/keep-going.md): starting one test child and waiting for
// its end, for the supervisor (keep_going/supervisor.h). The child is the
// same program (posix_spawn, never fork: the supervisor may hold any lock),
// with the supervisor's own variables (sharding, output files, Bazel's
// files) taken out of its environment. Waiting never blocks on a child that
// will not die: SIGKILL does not end a thread in uninterruptible sleep.
// While waiting, SIGINT and SIGTERM sent to the supervisor are passed on to
// the child and noted; the supervisor then stops the run.
//
// Not on the stall path (the supervisor runs no test: it allocates freely).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gtest_watchdog/watch/keep_going_page.h"

namespace gtest_watchdog_internal {

// How a child ended.
struct ChildEnd {
  bool reaped = false;  // false: it would not die (uninterruptible sleep)
  int status = 0;       // its wait status
  int64_t max_rss_kib = 0;
  int64_t ran_ns = 0;
  std::string outside;  // the supervisor's view, when it stepped in
};

// Starts `exe` with `argv`, this process's environment without the
// supervisor's own variables, plus `variables` ("NAME=VALUE"). The pid, or
// -1 with errno. Not on the stall path.
pid_t SpawnTestChild(const std::string& exe,
                     const std::vector<std::string>& argv,
                     const std::vector<std::string>& variables);

// Waits until `pid` ends. When `overran(now_ns)` says so, reads what can be
// seen of it from outside (OutsideView), kills it, and gives it 5 s to die.
// Kills what it left behind (this process is their subreaper).
// Not on the stall path.
void WaitForTestChild(pid_t pid, int64_t start_ns,
                      const std::function<bool(int64_t)>& overran,
                      ChildEnd* end);

// Makes this process the subreaper of its test children's orphans and
// passes SIGINT and SIGTERM on to the running child. Start-up only.
void PrepareToSuperviseChildren();

// The signal (SIGINT or SIGTERM) the supervisor got while a child ran, or
// 0. Not on the stall path.
int SupervisorInterrupted();

// What a child that ended early is said to have done.
struct EarlyEnd {
  // "STALLED", "CRASHED", "EXITED", "KILLED", "STOPPED" (interrupted).
  std::string label;
  std::string how;       // DescribeEnd
  std::string why;       // the supervisor's own finding when it stepped in
  std::string message;   // the failure message for GoogleTest's results
  int interrupt = 0;     // SIGINT or SIGTERM that stops the run, or 0
  int64_t phase_ns = 0;  // how long its last phase ran
};

// From the page the child left and how it ended: its own report's message
// where its stall path left one, else what is known. When the supervisor
// stepped in, also says so on stderr, where the child's report would have
// been. Not on the stall path.
EarlyEnd DescribeEarlyEnd(const KeepGoingPage& page, const ChildEnd& end,
                          int64_t now_ns);

// "was killed by SIGKILL, 3.2 s after it started, no report (out of
// memory?); peak memory 812 MiB", "exited with status 3, 0.4 s after it
// started": the process's life, not the test's.
// Not on the stall path.
std::string DescribeEnd(const ChildEnd& end);

// Each thread of `pid` with its kernel state and wait channel, a line
// each, then each thread's stack where ptrace is allowed (else why not).
// Not on the stall path.
std::string OutsideView(pid_t pid);

// "2 threads, all stopped (T)", "3 threads: 1 running (R), 2 sleeping (S)":
// the states in OutsideView's text. Not on the stall path.
std::string StateSummary(const std::string& outside);

// "3.2 s". Not on the stall path.
std::string SecondsText(int64_t ns);

// The wall clock in milliseconds since the epoch, as GoogleTest keeps
// times. Not on the stall path.
int64_t WallMillis();

}  // namespace gtest_watchdog_internal
