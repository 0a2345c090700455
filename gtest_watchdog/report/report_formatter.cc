#include "gtest_watchdog/report/report_formatter.h"

#include <sys/syscall.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest_watchdog/base/text_escape.h"
#include "gtest_watchdog/config/duration.h"
#include "gtest_watchdog/diagnose/analysis.h"
#include "gtest_watchdog/diagnose/model_text.h"
#include "gtest_watchdog/diagnose/syscall_names.h"
#include "gtest_watchdog/diagnose/user_code.h"
#include "gtest_watchdog/diagnose/verdict.h"
#include "gtest_watchdog/dump/signal_info.h"

namespace gtest_watchdog_internal {
namespace {

std::string Seconds(int64_t ns) {
  return absl::StrFormat("%.2f s", static_cast<double>(ns) / 1e9);
}

std::string LimitText(int64_t ns) { return FormatLimit(absl::Nanoseconds(ns)); }

std::string FrameText(const SourceFrame& f) {
  std::string text = f.function.empty() ? "??" : f.function;
  if (f.inlined) text += " [inlined]";
  if (!f.file.empty() && f.line > 0) {
    absl::StrAppend(&text, "  at ", f.file, ":", f.line);
  } else if (!f.module.empty()) {
    absl::StrAppendFormat(&text, "  in %s+0x%x", Basename(f.module),
                          f.module_offset);
  }
  return text;
}

std::string WhyNoStack(const SnapshotThread& t) {
  switch (t.status) {
    case StackStatus::kSignalsBlocked:
      return "its stack could not be taken: the thread blocks the signal the "
             "watchdog uses to ask for it";
    case StackStatus::kUninterruptible:
      return absl::StrCat("its stack could not be taken: the thread is in ",
                          StateName(t.state),
                          " and cannot run a signal handler");
    case StackStatus::kNoAnswer:
      return "its stack could not be taken: the thread did not answer the "
             "watchdog's signal in time";
    case StackStatus::kExited:
      return "the thread exited while the report was being taken";
    case StackStatus::kSelf:
      return "this is the watchdog thread writing the report";
    case StackStatus::kSmallStack:
      return "its stack could not be taken: too little room is left on it "
             "to run the watchdog's signal handler";
    case StackStatus::kOk:
      break;
  }
  return "";
}

std::string SyscallText(const ThreadModel& t) {
  const SnapshotThread& raw = *t.raw;
  if (raw.syscall_nr == kSyscallRunning)
    return "on a CPU (not in a system call)";
  if (raw.syscall_nr < 0) return "";
  if (!t.call.text.empty()) return absl::StrCat("in ", t.call.text);
  if (raw.syscall_nr == SYS_futex) {  // op tells mutex from condition variable
    const uint64_t op = raw.syscall_args[1] & 0x7f;
    const char* what =
        op == 9   ? "futex wait (condition variable, thread join or similar)"
        : op == 0 ? "futex wait (mutex or similar)"
                  : "futex";
    return absl::StrFormat("in %s on 0x%x", what, raw.syscall_args[0]);
  }
  const std::string name = SyscallName(raw.syscall_nr);
  if (name.empty()) return absl::StrCat("in system call ", raw.syscall_nr);
  return absl::StrCat("in ", name, "()");
}

// ", 99% of a CPU" for a busy thread, ", woke up 48 times in 101 ms" for
// one that keeps waking up; "" otherwise.
// Then whether its stack moved between samples, for a thread that ran.
std::string CpuText(const ThreadModel& t) {
  std::string text;
  if (IsBusy(t)) {
    text = absl::StrFormat(", %d%% of a CPU", CpuPercent(t));
  } else if (IsSlow(t)) {
    text = absl::StrCat(", woke up ", t.raw->wakeups, " times in ",
                        DurationText(t.raw->interval_ns));
  }
  const size_t samples = 1 + t.samples.size();
  if (t.motion == Motion::kMoved) {
    absl::StrAppend(&text, ", stack moving (", samples, " samples)");
  } else if (t.motion == Motion::kSameSpot) {
    absl::StrAppend(&text, ", the same spot in ", samples, " samples");
  }
  return text;
}
}  // namespace

std::string FormatReport(const Snapshot& snap, const SymbolizeFn& symbolize) {
  AnalysisInput input;
  input.snapshot = &snap;
  input.symbolize = symbolize;
  return FormatReport(Analyze(input), FormatOptions());
}

namespace {

// ANSI colours, only when the report goes to a terminal that wants them.
class Painter {
 public:
  explicit Painter(bool on) : on_(on) {}
  std::string Red(const std::string& s) const { return Wrap("1;31", s); }
  std::string Green(const std::string& s) const { return Wrap("32", s); }
  std::string Yellow(const std::string& s) const { return Wrap("33", s); }
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Dim(const std::string& s) const { return Wrap("2", s); }

 private:
  std::string Wrap(const char* code, const std::string& s) const {
    return on_ ? absl::StrCat("\033[", code, "m", s, "\033[0m") : s;
  }
  bool on_;
};

std::string StackSourceText(const ThreadModel& t) {
  switch (t.source) {
    case StackSource::kPtrace:
      return absl::StrCat(
          "(", WhyNoStack(*t.raw),
          "; stack taken from outside with ptrace instead",
          t.stack_note.empty() ? "" : absl::StrCat(", partial: ", t.stack_note),
          ")");
    case StackSource::kKernelPc:
    case StackSource::kNone: {
      std::string why = WhyNoStack(*t.raw);
      if (!t.stack_note.empty()) {
        absl::StrAppend(&why, "; ptrace could not help: ", t.stack_note);
      }
      return why.empty() ? "" : absl::StrCat("(", why, ")");
    }
    case StackSource::kSignal:
      break;
  }
  return "";
}

// Frames past the first GoogleTest frame, when nothing but GoogleTest, the
// runtime and main follow, are folded into one line: the user's code
// stands out, and the JSON report keeps every frame.
size_t FoldAt(const std::vector<SourceFrame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    if (!IsGtest(frames[i].function)) continue;
    bool rest_runtime = true;
    for (size_t j = i + 1; j < frames.size() && rest_runtime; ++j) {
      rest_runtime = IsRuntime(frames[j]);
    }
    if (rest_runtime && frames.size() - i - 1 >= 2) return i + 1;
    if (rest_runtime) break;
  }
  return frames.size();
}

void AppendFrames(std::string* out, const std::vector<SourceFrame>& frames,
                  const Painter& paint) {
  const size_t shown = FoldAt(frames);
  for (size_t i = 0; i < shown; ++i) {
    const std::string text = EscapeText(FrameText(frames[i]));
    absl::StrAppend(out, "    #", i, "  ",
                    IsRuntime(frames[i]) ? text : paint.Bold(text), "\n");
  }
  if (shown < frames.size()) {
    absl::StrAppend(out, "    ",
                    paint.Dim(absl::StrCat("... ", frames.size() - shown,
                                           " more frames in GoogleTest and "
                                           "main")),
                    "\n");
  }
}

// "4812-4815, 4820" for a sorted list; long lists end with a count.
std::string TidRanges(const std::vector<pid_t>& tids) {
  std::vector<std::string> runs;
  size_t i = 0;
  constexpr size_t kMaxRuns = 48;
  while (i < tids.size() && runs.size() < kMaxRuns) {
    size_t j = i;
    while (j + 1 < tids.size() && tids[j + 1] == tids[j] + 1) ++j;
    runs.push_back(j == i ? absl::StrCat(tids[i])
                          : absl::StrCat(tids[i], "-", tids[j]));
    i = j + 1;
  }
  std::string text = absl::StrJoin(runs, ", ");
  if (i < tids.size()) {
    absl::StrAppend(&text, " and ", tids.size() - i, " more");
  }
  return text;
}

std::string WhereText(const ThreadModel& t) {
  const SourceFrame* user = FirstUserFrame(t.frames);
  if (user == nullptr) return "";
  return absl::StrCat(user->function, " at ", Basename(user->file), ":",
                      user->line);
}

// The thread a crash or signal interrupted, or null.
const ThreadModel* SignalledThread(const ReportModel& m) {
  if (m.snapshot->signal.signo == 0) return nullptr;
  return m.ByTid(m.snapshot->signal.tid);
}

// "SIGSEGV (address not mapped to object) at address 0x0".
std::string SignalText(const Snapshot& snap) {
  const SignalFacts& sig = snap.signal;
  std::string text = SignalName(sig.signo);
  const char* how = SignalCodeText(sig.signo, sig.code);
  if (*how != '\0') absl::StrAppend(&text, " (", how, ")");
  if (IsFault(sig.signo, sig.code)) {
    absl::StrAppendFormat(&text, " at address 0x%x", sig.fault_addr);
  }
  if (sig.sender_pid != 0) {
    absl::StrAppend(&text, " from pid ", sig.sender_pid,
                    sig.sender_pid == snap.pid ? " (this process)" : "");
  }
  if (LooksLikeStackOverflow(sig.signo, sig.fault_addr, sig.sp)) {
    absl::StrAppend(&text,
                    ": stack overflow (the address is just below the "
                    "thread's stack pointer)");
  }
  return text;
}

// "[ VERDICT  ] blocked: ...\n", the same in the report and in the failure
// message; "" without a verdict. Escaped: one line, whatever the names
// and paths in it hold.
std::string VerdictLine(const ReportModel& m, const Painter& paint) {
  if (m.verdict.kind == VerdictKind::kNone || m.verdict.text.empty()) {
    return "";
  }
  return absl::StrCat(paint.Yellow("[ VERDICT  ]"), " ",
                      EscapeText(m.verdict.text), "\n");
}

void AppendDeadlocks(std::string* out, const ReportModel& m,
                     const Painter& paint) {
  for (const DeadlockCycle& c : m.cycles) {
    std::vector<std::string> lines;
    for (size_t k = 0; k < c.threads.size(); ++k) {
      const ThreadModel& t = m.threads[c.threads[k]];
      const ThreadModel& next =
          m.threads[c.threads[(k + 1) % c.threads.size()]];
      lines.push_back(EscapeText(absl::StrCat(
          ThreadLabel(t), " waits for ", LockText(t.wait), " held by ",
          &t == &next ? "itself" : ThreadLabel(next))));
    }
    std::vector<std::string> wheres;
    for (int idx : c.threads) {
      const std::string where = WhereText(m.threads[idx]);
      if (!where.empty())
        wheres.push_back(absl::StrCat(m.threads[idx].raw->tid, " in ", where));
    }
    if (!wheres.empty())
      lines.push_back(EscapeText(absl::StrJoin(wheres, " · ")));
    absl::StrAppend(out, paint.Red("[ DEADLOCK ]"), " ",
                    absl::StrJoin(lines, "\n             "), "\n");
  }
}

}  // namespace

std::string FormatReport(const ReportModel& m, const FormatOptions& options) {
  const Snapshot& snap = *m.snapshot;
  const Painter paint(options.color);
  const std::vector<SourceFrame> no_frames;
  const std::vector<SourceFrame>& test_frames =
      m.test_thread >= 0 ? m.threads[m.test_thread].frames : no_frames;

  std::string out;
  const char* tag = snap.kind == "crash"    ? "[ CRASH    ]"
                    : snap.kind == "signal" ? "[ SIGNAL   ]"
                                            : "[ TIMEOUT  ]";
  absl::StrAppend(&out, paint.Red(tag), " ", EscapeText(Headline(m)), "\n");
  // The cause in words, before any evidence. A crash's cause is the crash:
  // the [ CRASHED ] line below says where.
  if (m.verdict.kind != VerdictKind::kCrash) {
    absl::StrAppend(&out, VerdictLine(m, paint));
  }

  // Where it happened, in the user's code: the crashing thread, or the
  // thread running the test.
  const ThreadModel* signalled = SignalledThread(m);
  if (snap.kind == "crash" && signalled != nullptr) {
    const SourceFrame* user = FirstUserFrame(signalled->frames);
    const SourceFrame* top =
        signalled->frames.empty() ? nullptr : &signalled->frames.front();
    std::string where;
    if (user != nullptr) {
      where = absl::StrCat(" in ", user->function, " at ", Basename(user->file),
                           ":", user->line);
      if (top != user && top != nullptr && !top->function.empty()) {
        absl::StrAppend(&where, " (innermost: ", top->function, ")");
      }
    } else if (top != nullptr) {
      where = absl::StrCat(" in ", FrameText(*top));
    }
    absl::StrAppend(&out, paint.Green("[ CRASHED  ]"), " ",
                    EscapeText(absl::StrCat(ThreadLabel(*signalled), where)),
                    "\n");
  } else if (const SourceFrame* user = FirstUserFrame(test_frames)) {
    absl::StrAppend(
        &out,
        paint.Green(snap.kind == "signal" ? "[ RUNNING  ]" : "[ STALLED  ]"),
        " thread ", snap.test_tid, " in ",
        EscapeText(absl::StrCat(user->function, " at ", Basename(user->file))),
        ":", user->line, "\n");
  }
  AppendDeadlocks(&out, m, paint);

  // The census leaves out the watchdog's own thread: it is busy writing
  // this report, and counting it "running" would mislead.
  std::map<std::string, int> census;
  for (const SnapshotThread& t : snap.threads) {
    if (t.status != StackStatus::kSelf) ++census[StateName(t.state)];
  }
  std::vector<std::string> parts;
  parts.reserve(census.size());
  for (const auto& [state, n] : census)
    parts.push_back(absl::StrCat(n, " ", state));
  absl::StrAppend(&out, paint.Green("[ THREADS  ]"), " ", snap.threads.size(),
                  " threads: ", absl::StrJoin(parts, ", "),
                  snap.watchdog_tid != 0 ? ", and the watchdog's own" : "");
  if (m.groups.size() < m.threads.size()) {
    absl::StrAppend(&out, "; ", m.groups.size(), " distinct stacks");
  }
  absl::StrAppend(&out, "\n");
  if (!m.children.empty()) {
    absl::StrAppend(
        &out, paint.Green("[ CHILDREN ]"), " ", m.children.size(),
        m.children.size() == 1 ? " child process" : " child processes",
        " of the test program, terminated before the abort:\n");
    for (const ChildProcess& c : m.children) {
      absl::StrAppend(&out, "             pid ", c.pid, " (",
                      StateName(c.state),
                      c.ppid != snap.pid ? absl::StrCat(", child of ", c.ppid)
                                         : std::string(),
                      "): ", EscapeText(c.command), "\n");
    }
  }
  if (!m.ptrace_note.empty()) {
    absl::StrAppend(&out, paint.Yellow("[ WATCHDOG ]"), " ",
                    EscapeText(m.ptrace_note), "\n");
  }

  for (const ThreadGroup& g : m.groups) {
    const ThreadModel& t = m.threads[g.members[0]];
    if (g.members.size() == 1) {
      std::string head =
          absl::StrCat("Thread ", t.raw->tid, " \"", t.raw->name, "\"");
      if (t.raw->tid == snap.test_tid) {
        absl::StrAppend(&head, " [runs ",
                        !snap.test_name.empty()   ? snap.test_name
                        : snap.phase_id == "none" ? std::string("the tests")
                                                  : snap.phase_id,
                        "]");
      }
      absl::StrAppend(&out, "\n", paint.Bold(EscapeText(head)));
    } else {
      std::vector<pid_t> tids;
      std::set<std::string> names;
      for (int idx : g.members) {
        tids.push_back(m.threads[idx].raw->tid);
        names.insert(m.threads[idx].raw->name);
      }
      std::string head = absl::StrCat(
          g.members.size(), " threads with the same stack: ", TidRanges(tids));
      if (names.size() == 1) {
        absl::StrAppend(&head, " \"", *names.begin(), "\"");
      } else {
        absl::StrAppend(&head, " (", names.size(), " different names)");
      }
      absl::StrAppend(&out, "\n", paint.Bold(EscapeText(head)));
    }
    if (t.raw->status == StackStatus::kSelf) {
      absl::StrAppend(&out, " — gtest_watchdog, writing this report\n");
      continue;
    }
    if (&t == signalled) {
      // It sits in our handler now; what matters is where it was.
      absl::StrAppend(
          &out, " — ",
          paint.Red(absl::StrCat(
              snap.kind == "crash" ? "crashed here: " : "interrupted here by ",
              SignalName(snap.signal.signo))),
          t.call.text.empty() ? ""
                              : EscapeText(absl::StrCat(", in ", t.call.text)),
          "\n");
      AppendFrames(&out, t.frames, paint);
      if (t.raw->truncated)
        absl::StrAppend(&out, "    ... (deeper frames cut)\n");
      continue;
    }
    absl::StrAppend(&out, " — ", StateName(t.raw->state));
    absl::StrAppend(&out, CpuText(t));
    std::string what = WaitText(m, t);
    if (what.empty()) what = SyscallText(t);
    if (!what.empty()) absl::StrAppend(&out, ", ", EscapeText(what));
    if (!t.raw->wchan.empty())
      absl::StrAppend(&out, " (kernel: ", EscapeText(t.raw->wchan), ")");
    absl::StrAppend(&out, "\n");
    const std::string source = StackSourceText(t);
    if (!source.empty())
      absl::StrAppend(&out, "    ", EscapeText(source), "\n");
    if (t.raw->status == StackStatus::kExited) continue;
    if (t.source == StackSource::kKernelPc) {
      absl::StrAppend(&out, "    program counter from the kernel:\n");
    }
    AppendFrames(&out, t.frames, paint);
    if (t.raw->truncated)
      absl::StrAppend(&out, "    ... (deeper frames cut)\n");
  }
  absl::StrAppend(&out, "\n");
  return out;
}

std::string Headline(const ReportModel& m) {
  const Snapshot& snap = *m.snapshot;
  std::string what;
  if (snap.phase_id == "test") {
    what = absl::StrCat(snap.test_name, ": ", TestPartName(m.part));
  } else if (snap.phase_id == "suite-setup") {
    what = absl::StrCat(snap.suite_name, ": SetUpTestSuite()");
  } else if (snap.phase_id == "suite-teardown") {
    what = absl::StrCat(snap.suite_name, ": TearDownTestSuite()");
  } else if (snap.phase_id == "environment-setup") {
    what = "global test environment: SetUp()";
  } else if (snap.phase_id == "environment-teardown") {
    what = "global test environment: TearDown()";
  } else {
    what = snap.phase_id;
  }
  if (snap.phase_id == "none") what = "outside any test";
  if (snap.signal.signo != 0) {
    return absl::StrCat(
        what, ": ", SignalText(snap),
        snap.phase_id == "none"
            ? ""
            : absl::StrCat(", ", Seconds(snap.elapsed_ns), " into it"));
  }
  if (snap.kind == "total-timeout") {
    return absl::StrCat(
        "the whole test run still running after ", Seconds(snap.elapsed_ns),
        " (limit ", LimitText(snap.limit_ns), ", from ", snap.limit_origin,
        "); running now: ",
        snap.phase_id == "none" ? "nothing (between phases)" : what);
  }
  return absl::StrCat(what, " still running after ", Seconds(snap.elapsed_ns),
                      " (limit ", LimitText(snap.limit_ns), ", from ",
                      snap.limit_origin, ")");
}

std::string FormatFailureMessage(const ReportModel& m) {
  // GoogleTest keeps what precedes "Stack trace:" as the failure's message
  // attribute in XML, and the whole text as its body: the verdict goes
  // there, right after the headline, since a CI dashboard shows only that
  // attribute. A crash's verdict too (which thread, where), which its
  // headline lacks. Escaped, it is one line and cannot forge the marker.
  std::string out = absl::StrCat("gtest_watchdog: ", EscapeText(Headline(m)),
                                 "\n", VerdictLine(m, Painter(false)));
  out.pop_back();  // each part below starts its own line
  const ThreadModel* signalled =
      m.snapshot->kind == "crash" ? SignalledThread(m) : nullptr;
  if (signalled != nullptr) {
    absl::StrAppend(&out, "\nStack trace:\nThread ", signalled->raw->tid, " \"",
                    EscapeText(signalled->raw->name), "\", where ",
                    SignalName(m.snapshot->signal.signo), " hit:\n");
    AppendFrames(&out, signalled->frames, Painter(false));
  } else if (m.test_thread >= 0) {
    const ThreadModel& t = m.threads[m.test_thread];
    absl::StrAppend(&out, "\nStack trace:\nThread ", t.raw->tid, " \"",
                    EscapeText(t.raw->name), "\", which runs the test:\n");
    AppendFrames(&out, t.frames, Painter(false));
  } else {
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace gtest_watchdog_internal
