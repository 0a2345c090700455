#include "gtest_watchdog/stall/stall_reporter.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/base/signal_name.h"
#include "gtest_watchdog/dump/child_processes.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/dead_man.h"
#include "gtest_watchdog/stall/exit_guard.h"
#include "gtest_watchdog/stall/fallback_report.h"
#include "gtest_watchdog/stall/fatal_signals.h"
#include "gtest_watchdog/stall/gtest_output_step.h"
#include "gtest_watchdog/stall/helper_launch.h"
#include "gtest_watchdog/stall/stack_samples.h"
#include "gtest_watchdog/stall/stall_state.h"
#include "gtest_watchdog/stall/thread_census.h"
#include "gtest_watchdog/watch/keep_going_page.h"

namespace gtest_watchdog_internal {
namespace {

std::atomic<bool> g_reporting{false};
// After a signal report: how long the signalled thread's previous handler
// may take before the dead-man ends the process.
constexpr int64_t kHandOverNs = int64_t{60} * 1000000000;

}  // namespace

bool StallReporter::DebuggerAttached() {
  char status[4096];
  const ssize_t n = ReadProcFile("/proc/self/status", status, sizeof(status));
  if (n <= 0) return false;
  const char* p = strstr(status, "TracerPid:");
  if (p == nullptr) return false;
  p += sizeof("TracerPid:") - 1;
  while (*p == ' ' || *p == '\t') ++p;
  return *p >= '1' && *p <= '9';
}

void StallReporter::WarnSlow(const ArmedPhase& armed, int64_t now_ns) {
  // Static: only the watchdog thread calls this, so one copy is enough.
  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(armed, test_name, suite_name);
  RawWriter w(g_stall.stderr_fd);
  w.Str("[  SLOW    ] ")
      .Escaped(test_name)
      .Str(" still running after ")
      .Seconds(now_ns - armed.start_ns)
      .Str(" s");
  if (armed.limit_ns > 0) {
    w.Str(" (limit ").Seconds(armed.limit_ns).Str(" s)");
  }
  w.Char('\n');
}

namespace {

// Step 6. The test's child processes are stopped first: a test thread
// waiting for one (waitpid, a pipe) must not wake up and run on — edit
// GoogleTest's results, or even finish the run — before the abort. They are
// killed right before it (and by the dead-man if the next step hangs);
// SIGKILL, not SIGTERM: a child given time to exit would wake the test up.
// Returns how many were stopped (in g_stall.frozen_pids). Signal-safe.
int FreezeChildren() {
  int frozen = 0;
  if (g_stall.frozen_pids != nullptr) {
    // Not the helper: stopped, it could neither finish nor kill the others,
    // and would hold the report's stderr pipe open for ever.
    frozen = FreezeDescendants(g_stall.pid, g_stall.frozen_pids,
                               kChildPidCapacity, HelperPid());
    if (frozen < 0) frozen = 0;
    if (frozen > 0) DeadMan::SetChildPids(g_stall.frozen_pids, frozen);
    // The helper kills them the moment we are gone: killed now, they would
    // wake a test waiting for them, which would run on until our abort.
    if (frozen > 0) HandChildrenToHelper(g_stall.frozen_pids, frozen);
  }
  return frozen;
}

// Steps 2-7 of the stall path, shared by stalls and signals: the helper
// started, threads, their stacks, the snapshot handed to the helper (or the
// raw fallback), the children
// stopped, GoogleTest's output. `ev` is the signal being reported, or null;
// its thread's stack was taken by the handler and is not asked for again.
// `write_output`: GoogleTest's output is about the phase the board shows.
// Returns the number of children stopped (in g_stall.frozen_pids).
// Signal-safe in the sense above, up to GoogleTest's output.
int CollectAndReport(const SnapshotHeader& header_in, const SignalEvent* ev,
                     bool write_output) {
  SnapshotHeader header = header_in;
  // Free descriptors even if the process ran out of them.
  for (int fd : g_stall.spare_fds) {
    if (fd >= 0) close(fd);
  }

  // The helper starts now and gets ready (exec, its caller check, the
  // symbolizer's set-up) while we take the census, the CPU window above
  // all; it reads the snapshot at RunHelper's go. Failing, RunHelper says
  // so and the fallback report is written.
  StartHelper();
  const ThreadCensus threads = ListThreads(ev);
  ReadThreads(threads, header, ev);
  StackCollector::Collect(threads.stacks, threads.count,
                          MonotonicNowNs() + g_stall.timings.answer_timeout_ns);
  SettleStackStatuses(threads);
  TakeExtraSamples(threads, &header, ev);

  bool ok = false;
  if (g_stall.snapshot_fd >= 0) {
    WriteSnapshot(g_stall.snapshot_fd, header, threads.in, threads.count);
    lseek(g_stall.snapshot_fd, 0, SEEK_SET);
    ok = RunHelper(MonotonicNowNs() + g_stall.timings.helper_timeout_ns);
  }
  if (!ok) WriteFallback(header, threads.in, threads.count);

  const int frozen = FreezeChildren();
  WriteGtestOutputStep(header, write_output, ok);
  return frozen;
}

// Blocks SIGPIPE on this thread: a reader that went away must give EPIPE,
// not kill us mid-report. Signal-safe.
void BlockSigpipe() {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
}

// Without the helper to do it, kill the stopped children ourselves (a test
// waiting for one may run a moment before the end lands). Signal-safe.
void KillFrozenChildren(int frozen) {
  for (int i = 0; !HelperStays() && i < frozen; ++i) {
    if (g_stall.frozen_pids[i] > 1) kill(g_stall.frozen_pids[i], SIGKILL);
  }
}

// The header fields every report shares. Signal-safe.
void FillCommonHeader(SnapshotHeader* header, const char* test_name,
                      const char* suite_name) {
  header->test_name = test_name;
  header->suite_name = suite_name;
  header->pid = g_stall.pid;
  header->test_tid = TestThread();
  header->watchdog_tid = g_stall.watchdog_tid;
  header->color = g_stall.color;
  header->json_report = g_stall.json_report;
}

}  // namespace

void StallReporter::ReportAndAbort(Action kind, const ArmedPhase& fired,
                                   const TotalLimit& total, int64_t now_ns) {
  // Static: only the watchdog thread calls this, so one copy is enough;
  // the report's header points here until the process ends.
  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(fired, test_name, suite_name);
  if (DebuggerAttached()) {
    RawWriter w(g_stall.stderr_fd);
    w.Str("[ WATCHDOG ] ");
    if (kind == Action::kFireTotal) {
      w.Str("the whole run");
    } else if (test_name[0] != '\0') {
      w.Escaped(test_name);
    } else {
      if (suite_name[0] != '\0') w.Escaped(suite_name).Str(": ");
      w.Str(PhaseDescription(fired.phase));
    }
    w.Str(" passed its limit of ")
        .Seconds(kind == Action::kFireTotal ? total.limit_ns : fired.limit_ns)
        .Str(
            " s, but a debugger is attached: gtest_watchdog stands down "
            "(no report, no abort) while it is\n");
    return;
  }
  if (g_reporting.exchange(true)) ParkForever();  // another report ends us
  DeadMan::Arm(g_stall.timings.dead_man_ns);
  BlockSigpipe();
  // From here on the test program stays where it is, so the report and
  // GoogleTest's output describe one phase; a whole-run limit reports what
  // runs now.
  DeadlineBoard* board = InstalledBoard();
  const ArmedPhase now_running = board != nullptr ? board->Freeze() : fired;
  const ArmedPhase& armed = kind == Action::kFireTotal ? now_running : fired;
  if (kind == Action::kFireTotal) DescribeSubject(armed, test_name, suite_name);

  SnapshotHeader header;
  header.kind = kind == Action::kFireTotal ? "total-timeout" : "timeout";
  header.phase_id = PhaseId(armed.phase);
  header.phase_description = PhaseDescription(armed.phase);
  if (kind == Action::kFireTotal) {
    header.limit_origin = total.origin;
    header.limit_ns = total.limit_ns;
    header.elapsed_ns = now_ns - total.start_ns;
  } else {
    header.limit_origin = armed.origin;
    header.limit_ns = armed.limit_ns;
    header.elapsed_ns = now_ns - armed.start_ns;
  }
  FillCommonHeader(&header, test_name, suite_name);
  const int frozen = CollectAndReport(
      header, nullptr, now_running.generation == armed.generation);

  RawWriter w(g_stall.stderr_fd);
  // A keep-going test child: the run goes on without this process.
  w.Str(ChildPage() != nullptr
            ? "[ ABORT    ] gtest_watchdog aborts this test process "
              "(SIGABRT); keep going fails the test and runs the rest in a "
              "fresh one. "
            : "[ ABORT    ] gtest_watchdog aborts the test program "
              "(SIGABRT). ")
      .Str(
          "Raise the limit with --gtest_watchdog_timeout=DURATION or "
          "GTEST_WATCHDOG_TIMEOUT=DURATION.\n");
  w.Flush();
  KillFrozenChildren(frozen);
  AbortNow();
}

void StallReporter::ReportSignal(const ArmedPhase& armed, int64_t now_ns) {
  const SignalEvent* ev = FatalSignals::Pending();
  if (ev == nullptr || g_reporting.exchange(true)) ParkForever();
  // SIGABRT keeps its handler: an abort() on another thread meanwhile parks
  // there instead of ending the process by the wrong signal mid-report.
  DeadMan::Arm(g_stall.timings.dead_man_ns, "the report",
               /*reset_sigabrt=*/false);
  BlockSigpipe();
  // Static: only the watchdog thread calls this, so one copy is enough;
  // the report's header points here until the process ends.
  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(armed, test_name, suite_name);

  SnapshotHeader header;
  const SignalFacts& facts = ev->facts;
  const bool crash = IsFault(facts.signo, facts.code) || facts.signo == SIGABRT;
  header.kind = crash ? "crash" : "signal";
  header.phase_id = PhaseId(armed.phase);
  header.phase_description = PhaseDescription(armed.phase);
  header.limit_origin = armed.origin;
  header.limit_ns = armed.limit_ns;
  header.elapsed_ns = armed.running() ? now_ns - armed.start_ns : 0;
  header.signal = facts;
  FillCommonHeader(&header, test_name, suite_name);
  const int frozen = CollectAndReport(header, ev, true);

  RawWriter w(g_stall.stderr_fd);
  w.Str(crash ? "[ CRASH    ] " : "[ SIGNAL   ] ")
      .Str("report complete; ")
      .Str(SignalName(facts.signo))
      .Str(facts.to_previous_handler
               ? " now goes to the handler installed before gtest_watchdog, "
                 "then the process ends by it\n"
               : " now takes its default action: the process ends by it\n");
  w.Flush();
  KillFrozenChildren(frozen);
  // A new budget for what comes next, said as what it is: a previous
  // handler may take its time (a sanitizer symbolizing its own report).
  DeadMan::Arm(kHandOverNs,
               facts.to_previous_handler
                   ? "the handler the signal was passed on to"
                   : "ending the process by the signal",
               /*reset_sigabrt=*/false);
  MarkReportDone();  // an exit() from here on is the program's own
  FatalSignals::HandBack();
  ParkForever();  // the signalled thread ends the process
}

}  // namespace gtest_watchdog_internal
