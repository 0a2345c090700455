#include "gtest_watchdog/helper/report_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/diagnose/analysis.h"
#include "gtest_watchdog/diagnose/blocking_call.h"
#include "gtest_watchdog/diagnose/proc_view.h"
#include "gtest_watchdog/dump/child_processes.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/helper/caller_check.h"
#include "gtest_watchdog/report/json_report.h"
#include "gtest_watchdog/report/report_formatter.h"
#include "gtest_watchdog/symbolize/ptrace_unwinder.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

namespace gtest_watchdog_internal {

namespace {

void Say(int fd, const std::string& text) {
  const std::string line = "[ WATCHDOG ] report helper: " + text + "\n";
  WriteAll(fd, line.data(), line.size());
}

bool NeedsOutsideHelp(StackStatus s) {
  return s == StackStatus::kSignalsBlocked ||
         s == StackStatus::kUninterruptible || s == StackStatus::kNoAnswer ||
         s == StackStatus::kSmallStack;
}

// Whether the go byte (or the pipe's end) is there to read: the symbolizer's
// set-up stops then, the rest is done on first use.
bool GoArrived(int go_fd) {
  pollfd p = {go_fd, POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

// Waits for the stalled process's go byte: the snapshot is complete and it
// has named us as its tracer. Started before the census, we wait for as
// long as the census takes (the stalled process's dead-man kills us if it
// hangs), but not for a parent that is gone: the pipe ends, or we were
// reparented (a child the program forked may hold the pipe's write end).
// True if it came; with no go pipe (an older caller, a test) at once.
bool AwaitGo(int go_fd, pid_t parent) {
  if (go_fd < 0) return true;
  for (int rounds = 0; rounds < 10 * 600; ++rounds) {  // at most ~10 min
    pollfd p = {go_fd, POLLIN, 0};
    const int ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return false;
    if (ready > 0) {
      char c;
      ssize_t n;
      do {
        n = read(go_fd, &c, 1);
      } while (n < 0 && errno == EINTR);
      return n == 1;
    }
    if (parent != 0 && getppid() != parent) return false;
  }
  return false;
}

// Unwinds from outside the threads that could not answer our signal.
void UnwindSilentThreads(const Snapshot& snap, AnalysisInput* input) {
  std::vector<pid_t> tids;
  for (const SnapshotThread& t : snap.threads) {
    if (NeedsOutsideHelp(t.status)) tids.push_back(t.tid);
  }
  if (tids.empty()) return;
  std::string error;
  std::unique_ptr<PtraceUnwinder> unwinder =
      PtraceUnwinder::Attach(snap.pid, &error);
  if (unwinder == nullptr) {
    input->ptrace_note = absl::StrCat(
        tids.size(), tids.size() == 1 ? " thread" : " threads",
        " could not answer the watchdog's signal and could not be unwound "
        "from outside either: ",
        error);
    for (pid_t tid : tids) input->external[tid].error = error;
    return;
  }
  // Bounded: a thread in uninterruptible sleep may not stop for ptrace.
  const int64_t deadline = MonotonicNowNs() + 3000000000;
  for (UnwoundThread& u : unwinder->Unwind(tids, kMaxFrames, deadline)) {
    ExternalStack& e = input->external[u.tid];
    e.pcs = std::move(u.pcs);
    e.truncated = u.truncated;
    e.error = std::move(u.error);
  }
}

// One line on `fd`: the helper refuses and does nothing else. Allocates
// (helper process only).
void Refuse(int fd, const std::string& why) {
  Say(fd, absl::StrCat("refused: ", why, "; ", kReportHelperFlag,
                       " is for gtest_watchdog's own stall path only"));
}

}  // namespace

// After the report: reads pids from `go_fd` until the stalled process is
// gone (end of the pipe, or we were reparented), then kills them. They are
// the test's child processes, stopped by the stalled process; stopped, they
// cannot exit or be replaced by another process meanwhile.
void KillChildrenWhenParentIsGone(int go_fd, pid_t parent) {
  std::vector<pid_t> pids;
  std::string pending;
  for (int rounds = 0; rounds < 20 * 120; ++rounds) {  // at most ~2 min
    pollfd p = {go_fd, POLLIN, 0};
    const int ready = poll(&p, 1, 50);
    if (ready > 0) {
      char buf[4096];
      const ssize_t n = read(go_fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the stalled process is gone
      pending.append(buf, static_cast<size_t>(n));
      while (pending.size() >= sizeof(pid_t)) {
        pid_t pid;
        memcpy(&pid, pending.data(), sizeof(pid));
        pending.erase(0, sizeof(pid));
        pids.push_back(pid);
      }
    } else if (getppid() != parent) {
      break;  // reparented: it is gone, though someone holds the pipe
    }
  }
  for (pid_t pid : pids) {
    if (pid > 1 && pid != getpid()) kill(pid, SIGKILL);
  }
}

int RunReportHelper(int fd, int out_fd, int message_fd, int go_fd, int done_fd,
                    pid_t parent) {
  // Started before the snapshot exists: the symbolizer reads the parent's
  // modules and their debug info while the stalled process takes its
  // census, until the go byte. Nothing is read from `fd`, traced, killed or
  // written before it (the snapshot's pid check below comes first).
  std::string error;
  std::unique_ptr<Symbolizer> symbolizer;
  if (parent != 0 && go_fd >= 0) {
    symbolizer = Symbolizer::ForProcess(parent, &error);
    if (symbolizer != nullptr) {
      symbolizer->Prepare([go_fd] { return GoArrived(go_fd); });
    }
  }
  if (!AwaitGo(go_fd, parent)) {
    Say(out_fd,
        "the stalled process ended (or gave up) before its snapshot was "
        "complete; no report");
    return kReportHelperNoGo;
  }
  const std::string text = ReadToEnd(fd);
  Snapshot snap;
  if (!ParseSnapshot(text, &snap, &error)) {
    Say(out_fd, error);
    return 3;
  }
  // Before anything is done for the pid it names: ptrace, kills, the JSON
  // report.
  if (parent != 0 && snap.pid != parent) {
    Refuse(out_fd, absl::StrCat("the snapshot is about pid ", snap.pid,
                                ", not the parent process ", parent));
    return kReportHelperRefused;
  }
  if (symbolizer == nullptr) {
    symbolizer = Symbolizer::ForProcess(snap.pid, &error);
  }
  if (symbolizer == nullptr) {
    Say(out_fd, error);
    return 4;
  }
  AnalysisInput input;
  input.snapshot = &snap;
  input.symbolize = [&](uint64_t pc) -> const std::vector<SourceFrame>& {
    return symbolizer->Symbolize(pc);
  };
  input.data_symbol = [&](uint64_t addr) {
    return symbolizer->DataSymbolName(addr);
  };
  // The go byte made us the stalled process's permitted tracer: ptrace
  // and reading its memory need it.
  UnwindSilentThreads(snap, &input);
  input.children = ListChildProcesses(snap.pid, getpid());
  const std::unique_ptr<ProcView> view = MakeSystemProcView();
  CallDecoder decoder(*view, snap.pid, input.children);
  input.decode_call = [&](const SnapshotThread& t) {
    return decoder.Decode(t);
  };
  input.read_memory = [&](uint64_t addr, void* out, size_t size) {
    return view->ReadMemory(snap.pid, addr, out, size);
  };
  const ReportModel model = Analyze(input);

  FormatOptions options;
  options.color = snap.color;
  const std::string report = FormatReport(model, options);
  // stderr may be gone (a pipe whose reader exited, a full disk): the JSON
  // report and the failure message do not depend on it and are still
  // written. The stalled process's raw fallback could not get through
  // either, so "complete" is still said; the exit status says what failed.
  const bool text_written = WriteAll(out_fd, report.data(), report.size());
  if (!snap.json_report.empty()) {
    if (WriteJsonReportFile(snap.json_report, FormatJsonReport(model),
                            &error)) {
      const std::string line =
          "[ OUTPUT   ] JSON report written to " + snap.json_report + "\n";
      WriteAll(out_fd, line.data(), line.size());
    } else {
      Say(out_fd, "could not write the JSON report: " + error);
    }
  }
  if (message_fd >= 0) {
    const std::string message = FormatFailureMessage(model);
    WriteAll(message_fd, message.data(), message.size());
  }
  if (done_fd >= 0 && go_fd >= 0) {
    const char done = 'd';
    if (WriteAll(done_fd, &done, 1)) {
      close(done_fd);
      KillChildrenWhenParentIsGone(go_fd, snap.pid);
    }
  }
  return text_written ? 0 : 5;
}

bool ReportHelperLinked() { return true; }

namespace {

// Runs before main() and, with priority 101, before the program's own
// static initialisers in this executable. glibc passes argc/argv to
// .init_array functions.
__attribute__((constructor(101))) void InterceptReportHelper(int argc,
                                                             char** argv,
                                                             char**) {
  if (argc != 2 || argv == nullptr || argv[1] == nullptr) return;
  const size_t n = sizeof(kReportHelperFlag) - 1;
  if (strncmp(argv[1], kReportHelperFlag, n) != 0 || argv[1][n] != '=') return;
  char* end = nullptr;
  const long fd_number = strtol(argv[1] + n + 1, &end, 10);
  if (end == argv[1] + n + 1 || *end != '\0' || fd_number < 0 ||
      fd_number > INT_MAX) {
    return;  // not our helper's argument after all: run the program
  }
  const int fd = static_cast<int>(fd_number);
  // From here on the program never runs: a caller other than our stall
  // path gets one line and a non-zero exit, and nothing is read, traced,
  // killed or written for it.
  pid_t parent = 0;
  const std::string problem = ReportHelperCallerProblem(fd, &parent);
  if (!problem.empty()) {
    Refuse(2, problem);
    _exit(kReportHelperRefused);
  }
  // No PR_SET_PDEATHSIG: the helper outlives the stalled process on
  // purpose, to kill the children it stopped (see kReportHelperGoFd); the
  // stalled process's dead-man kills the helper if the report hangs.
  // The message and go descriptors are there only when the stalled process
  // set them up (it always does; older snapshots did not).
  const int message_fd =
      fcntl(kReportHelperMessageFd, F_GETFD) >= 0 ? kReportHelperMessageFd : -1;
  const int go_fd =
      fcntl(kReportHelperGoFd, F_GETFD) >= 0 ? kReportHelperGoFd : -1;
  const int done_fd =
      fcntl(kReportHelperDoneFd, F_GETFD) >= 0 ? kReportHelperDoneFd : -1;
  _exit(RunReportHelper(fd, 2, message_fd, go_fd, done_fd, parent));
}

}  // namespace
}  // namespace gtest_watchdog_internal
