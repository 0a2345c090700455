#include "gtest_watchdog/report/report_formatter.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gtest_watchdog/config/duration.h"

namespace gtest_watchdog_internal {
namespace {

bool IsGtest(const std::string& fn) {
  return absl::StartsWith(fn, "testing::") ||
         absl::StartsWith(fn, "void testing::") ||
         absl::StrContains(fn, " testing::internal::");
}

bool IsRuntime(const SourceFrame& f) {
  const std::string& fn = f.function;
  return fn.empty() || IsGtest(fn) || absl::StartsWith(fn, "std::") ||
         absl::StartsWith(fn, "__") || absl::StartsWith(fn, "gtest_watchdog") ||
         absl::StartsWith(f.file, "/usr/") || fn == "_start" ||
         absl::StartsWith(fn, "__libc_start") || fn == "start_thread" ||
         fn == "clone3" || fn == "main";
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Seconds(int64_t ns) {
  return absl::StrFormat("%.2f s", static_cast<double>(ns) / 1e9);
}

std::string LimitText(int64_t ns) { return FormatLimit(absl::Nanoseconds(ns)); }

const char* StateName(char s) {
  switch (s) {
    case 'R':
      return "running";
    case 'S':
      return "sleeping";
    case 'D':
      return "uninterruptible sleep";
    case 'T':
      return "stopped";
    case 't':
      return "stopped by a tracer";
    case 'Z':
      return "zombie";
    case 'X':
      return "dead";
    case 'I':
      return "idle";
    default:
      return "unknown state";
  }
}

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

std::vector<SourceFrame> Flatten(const SnapshotThread& t,
                                 const SymbolizeFn& symbolize) {
  std::vector<SourceFrame> out;
  std::vector<uint64_t> pcs = t.pcs;
  if (pcs.empty() && t.kernel_pc != 0) pcs.push_back(t.kernel_pc);
  for (uint64_t pc : pcs) {
    for (const SourceFrame& f : symbolize(pc)) out.push_back(f);
  }
  return out;
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

std::string SyscallText(const SnapshotThread& t) {
  if (t.syscall_nr == kSyscallRunning) return "on a CPU (not in a system call)";
  if (t.syscall_nr < 0) return "";
  const char* name = SyscallName(t.syscall_nr);
  if (*name == '\0') return absl::StrCat("in system call ", t.syscall_nr);
  if (t.syscall_nr == 202) {  // futex: op tells mutex from condition variable
    const uint64_t op = t.syscall_args[1] & 0x7f;
    const char* what =
        op == 9   ? "futex wait (condition variable, thread join or similar)"
        : op == 0 ? "futex wait (mutex or similar)"
                  : "futex";
    return absl::StrFormat("in %s on 0x%x", what, t.syscall_args[0]);
  }
  return absl::StrCat("in ", name, "()");
}

}  // namespace

const char* SyscallName(long nr) {
  switch (nr) {
    case 0:
      return "read";
    case 1:
      return "write";
    case 7:
      return "poll";
    case 23:
      return "select";
    case 24:
      return "sched_yield";
    case 34:
      return "pause";
    case 35:
      return "nanosleep";
    case 42:
      return "connect";
    case 43:
      return "accept";
    case 44:
      return "sendto";
    case 45:
      return "recvfrom";
    case 46:
      return "sendmsg";
    case 47:
      return "recvmsg";
    case 61:
      return "wait4";
    case 72:
      return "fcntl";
    case 73:
      return "flock";
    case 128:
      return "rt_sigtimedwait";
    case 130:
      return "rt_sigsuspend";
    case 202:
      return "futex";
    case 230:
      return "clock_nanosleep";
    case 232:
      return "epoll_wait";
    case 247:
      return "waitid";
    case 257:
      return "openat";
    case 270:
      return "pselect6";
    case 271:
      return "ppoll";
    case 281:
      return "epoll_pwait";
    case 288:
      return "accept4";
    default:
      return "";
  }
}

TestPart ClassifyTestPart(const std::vector<SourceFrame>& frames) {
  bool in_gtest = false;
  bool saw_create = false;
  bool saw_delete = false;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    const std::string& fn = it->function;
    if (IsGtest(fn)) {
      in_gtest = true;
      saw_create |= absl::StrContains(fn, "CreateTest");
      saw_delete |= absl::StrContains(fn, "DeleteSelf_");
      continue;
    }
    if (!in_gtest || fn.empty() || absl::StartsWith(fn, "std::")) continue;
    if (absl::StrContains(fn, "::TestBody(")) return TestPart::kBody;
    if (absl::StrContains(fn, "::SetUp(")) return TestPart::kSetUp;
    if (absl::StrContains(fn, "::TearDown(")) return TestPart::kTearDown;
    if (saw_delete || absl::StrContains(fn, "::~"))
      return TestPart::kDestructor;
    if (saw_create) return TestPart::kConstructor;
    return TestPart::kUnknown;
  }
  return TestPart::kUnknown;
}

const char* TestPartName(TestPart part) {
  switch (part) {
    case TestPart::kConstructor:
      return "fixture constructor";
    case TestPart::kSetUp:
      return "SetUp()";
    case TestPart::kBody:
      return "test body";
    case TestPart::kTearDown:
      return "TearDown()";
    case TestPart::kDestructor:
      return "fixture destructor";
    case TestPart::kUnknown:
      break;
  }
  return "test";
}

const SourceFrame* FirstUserFrame(const std::vector<SourceFrame>& frames) {
  for (const SourceFrame& f : frames) {
    if (!IsRuntime(f) && !f.file.empty()) return &f;
  }
  return nullptr;
}

std::string FormatReport(const Snapshot& snap, const SymbolizeFn& symbolize) {
  std::map<pid_t, std::vector<SourceFrame>> stacks;
  for (const SnapshotThread& t : snap.threads)
    stacks[t.tid] = Flatten(t, symbolize);
  const auto test_it = stacks.find(snap.test_tid);
  const std::vector<SourceFrame> no_frames;
  const std::vector<SourceFrame>& test_frames =
      test_it != stacks.end() ? test_it->second : no_frames;

  // Headline: what stalled, for how long, which limit.
  std::string what;
  if (snap.phase_id == "test") {
    what = absl::StrCat(snap.test_name, ": ",
                        TestPartName(ClassifyTestPart(test_frames)));
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
  std::string out;
  if (snap.kind == "total-timeout") {
    absl::StrAppend(
        &out, "[ TIMEOUT  ] the whole test run still running after ",
        Seconds(snap.elapsed_ns), " (limit ", LimitText(snap.limit_ns),
        ", from ", snap.limit_origin, "); running now: ",
        snap.phase_id == "none" ? "nothing (between phases)" : what, "\n");
  } else {
    absl::StrAppend(&out, "[ TIMEOUT  ] ", what, " still running after ",
                    Seconds(snap.elapsed_ns), " (limit ",
                    LimitText(snap.limit_ns), ", from ", snap.limit_origin,
                    ")\n");
  }

  // Where the thread running it is, in the user's code.
  if (const SourceFrame* user = FirstUserFrame(test_frames)) {
    absl::StrAppend(&out, "[ STALLED  ] thread ", snap.test_tid, " in ",
                    user->function, " at ", Basename(user->file), ":",
                    user->line, "\n");
  }

  // The census leaves out the watchdog's own thread: it is busy writing
  // this report, and counting it "running" would mislead.
  std::map<std::string, int> census;
  for (const SnapshotThread& t : snap.threads) {
    if (t.status != StackStatus::kSelf) ++census[StateName(t.state)];
  }
  std::vector<std::string> parts;
  for (const auto& [state, n] : census)
    parts.push_back(absl::StrCat(n, " ", state));
  absl::StrAppend(&out, "[ THREADS  ] ", snap.threads.size(),
                  " threads: ", absl::StrJoin(parts, ", "),
                  snap.watchdog_tid != 0 ? ", and the watchdog's own" : "",
                  "\n");

  for (const SnapshotThread& t : snap.threads) {
    absl::StrAppend(&out, "\nThread ", t.tid, " \"", t.name, "\"");
    if (t.tid == snap.test_tid) {
      absl::StrAppend(&out, " [runs ",
                      snap.test_name.empty() ? snap.phase_id : snap.test_name,
                      "]");
    }
    if (t.status == StackStatus::kSelf) {
      absl::StrAppend(&out, " — gtest_watchdog, writing this report\n");
      continue;
    }
    absl::StrAppend(&out, " — ", StateName(t.state));
    const std::string sc = SyscallText(t);
    if (!sc.empty()) absl::StrAppend(&out, ", ", sc);
    if (!t.wchan.empty()) absl::StrAppend(&out, " (kernel: ", t.wchan, ")");
    absl::StrAppend(&out, "\n");
    if (t.status != StackStatus::kOk) {
      absl::StrAppend(&out, "    (", WhyNoStack(t), ")\n");
      if (t.status == StackStatus::kSelf || t.status == StackStatus::kExited)
        continue;
      if (t.kernel_pc != 0) {
        absl::StrAppend(&out, "    program counter from the kernel:\n");
      }
    }
    const std::vector<SourceFrame>& frames = stacks[t.tid];
    for (size_t i = 0; i < frames.size(); ++i) {
      absl::StrAppend(&out, "    #", i, "  ", FrameText(frames[i]), "\n");
    }
    if (t.truncated) absl::StrAppend(&out, "    ... (deeper frames cut)\n");
  }
  absl::StrAppend(&out, "\n");
  return out;
}

}  // namespace gtest_watchdog_internal
