#include "gtest_watchdog/keep_going/test_child.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/signal_name.h"
#include "gtest_watchdog/keep_going/child.h"
#include "gtest_watchdog/symbolize/ptrace_unwinder.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

// Variables a test child must not see: the supervisor alone shards, writes
// the output files and tells Bazel about them.
constexpr const char* kParentOnlyVariables[] = {
    "GTEST_TOTAL_SHARDS",       "GTEST_SHARD_INDEX",
    "GTEST_SHARD_STATUS_FILE",  "TEST_SHARD_STATUS_FILE",
    "TEST_PREMATURE_EXIT_FILE", "GTEST_OUTPUT",
    "XML_OUTPUT_FILE",          kChildVariable,
    kChildReportVariable};

std::atomic<pid_t> g_running_child{0};
std::atomic<int> g_interrupted{0};

void PassOn(int signo) {
  g_interrupted.store(signo, std::memory_order_relaxed);
  const pid_t child = g_running_child.load(std::memory_order_relaxed);
  if (child > 0) kill(child, signo);
}

// The processes whose parent is this one, but `except`.
std::vector<pid_t> OurChildren(pid_t except) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  const pid_t self = getpid();
  while (const dirent* e = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid == except) continue;
    FILE* f = fopen(absl::StrCat("/proc/", pid, "/stat").c_str(), "re");
    if (f == nullptr) continue;
    char line[1024] = {};
    const size_t n = fread(line, 1, sizeof line - 1, f);
    (void)fclose(f);
    const char* close = strrchr(line, ')');
    if (n == 0 || close == nullptr) continue;
    // " S 1234 ...": the state, then the parent's pid.
    const std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(close + 1), ' ', absl::SkipEmpty());
    pid_t ppid = 0;
    if (fields.size() > 1 && absl::SimpleAtoi(fields[1], &ppid) &&
        ppid == self) {
      pids.push_back(pid);
    }
  }
  closedir(proc);
  return pids;
}

std::vector<pid_t>* g_own_children = nullptr;  // before the first child

}  // namespace

int64_t WallMillis() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string SecondsText(int64_t ns) {
  return absl::StrFormat("%.1f s", static_cast<double>(ns) / 1e9);
}

std::string DescribeEnd(const ChildEnd& end) {
  std::string what;
  if (!end.reaped) {
    what = absl::StrCat("did not end after SIGKILL (", SecondsText(end.ran_ns),
                        " after it started): a thread in uninterruptible "
                        "sleep");
  } else if (WIFSIGNALED(end.status)) {
    const int sig = WTERMSIG(end.status);
    what = absl::StrCat("was killed by ", SignalName(sig), ", ",
                        SecondsText(end.ran_ns), " after it started");
    if (sig == SIGKILL && end.outside.empty()) {
      absl::StrAppend(&what, ", no report (out of memory?)");
    }
  } else if (WIFEXITED(end.status)) {
    what = absl::StrCat("exited with status ", WEXITSTATUS(end.status), ", ",
                        SecondsText(end.ran_ns), " after it started");
  }
  if (end.max_rss_kib > 0) {
    absl::StrAppend(&what, "; peak memory ", end.max_rss_kib / 1024, " MiB");
  }
  return what;
}

std::string StateSummary(const std::string& outside) {
  std::vector<std::pair<char, int>> counts;
  int total = 0;
  for (absl::string_view line : absl::StrSplit(outside, '\n')) {
    const size_t at = line.find(": state ");
    if (at == absl::string_view::npos || at + 8 >= line.size()) continue;
    const char state = line[at + 8];
    ++total;
    bool found = false;
    for (auto& [c, n] : counts) {
      if (c == state) {
        ++n;
        found = true;
      }
    }
    if (!found) counts.emplace_back(state, 1);
  }
  auto name = [](char c) -> std::string {
    switch (c) {
      case 'R':
        return "running (R)";
      case 'S':
        return "sleeping (S)";
      case 'D':
        return "in uninterruptible sleep (D)";
      case 'T':
        return "stopped (T)";
      case 't':
        return "stopped by a tracer (t)";
      case 'Z':
        return "zombie (Z)";
      default:
        return absl::StrCat("state ", std::string(1, c));
    }
  };
  if (counts.size() == 1) {
    return absl::StrCat(total, total == 1 ? " thread, " : " threads, all ",
                        name(counts[0].first));
  }
  std::vector<std::string> parts;
  parts.reserve(counts.size());
  for (const auto& [c, n] : counts)
    parts.push_back(absl::StrCat(n, " ", name(c)));
  return absl::StrCat(total, " threads: ", absl::StrJoin(parts, ", "));
}

std::string OutsideStacks(pid_t pid, const std::vector<pid_t>& tids) {
  // The child is ours: ptrace is allowed unless Yama's scope 2 or 3, or a
  // seccomp or container policy, says otherwise; then only the states.
  std::string error;
  std::unique_ptr<PtraceUnwinder> unwinder =
      PtraceUnwinder::Attach(pid, &error);
  if (unwinder == nullptr) return absl::StrCat("  (no stacks: ", error, ")\n");
  std::unique_ptr<Symbolizer> symbolizer = Symbolizer::ForProcess(pid, &error);
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind(tids, 48, MonotonicNowNs() + 3000000000);
  std::string out;
  for (const UnwoundThread& t : threads) {
    absl::StrAppend(&out, "  thread ", t.tid, ", its stack",
                    t.error.empty() ? "" : absl::StrCat(" (", t.error, ")"),
                    ":\n");
    int n = 0;
    for (uint64_t pc : t.pcs) {
      const std::vector<SourceFrame>* frames =
          symbolizer != nullptr ? &symbolizer->Symbolize(pc) : nullptr;
      if (frames == nullptr || frames->empty()) {
        absl::StrAppendFormat(&out, "    #%-2d 0x%x\n", n++, pc);
        continue;
      }
      for (const SourceFrame& f : *frames) {
        const std::string file = f.file.substr(f.file.rfind('/') + 1);
        absl::StrAppendFormat(
            &out, "    #%-2d %s%s%s\n", n++,
            f.function.empty() ? "??" : f.function,
            file.empty() ? "" : absl::StrCat("  at ", file, ":", f.line),
            f.inlined ? " [inlined]" : "");
      }
    }
  }
  return out;
}

std::string OutsideView(pid_t pid) {
  std::string out;
  const std::string task = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(task.c_str());
  if (dir == nullptr) return "  (its threads cannot be read)\n";
  auto read_file = [](const std::string& path) {
    std::string text;
    FILE* f = fopen(path.c_str(), "re");
    if (f == nullptr) return text;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
    (void)fclose(f);
    return text;
  };
  std::vector<std::string> lines;
  std::vector<pid_t> tids;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = absl::StrCat(task, "/", e->d_name);
    const std::string stat = read_file(base + "/stat");
    const size_t open = stat.find('(');
    const size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos ||
        close + 2 >= stat.size()) {
      continue;
    }
    const std::string name = stat.substr(open + 1, close - open - 1);
    const char state = stat[close + 2];
    std::string wchan = read_file(base + "/wchan");
    if (wchan == "0") wchan.clear();
    lines.push_back(absl::StrCat("  thread ", e->d_name, " \"", name,
                                 "\": state ", std::string(1, state),
                                 wchan.empty() ? "" : ", in the kernel at ",
                                 wchan, "\n"));
    pid_t tid = 0;
    if (absl::SimpleAtoi(e->d_name, &tid)) tids.push_back(tid);
  }
  closedir(dir);
  for (const std::string& l : lines) out += l;
  return out + OutsideStacks(pid, tids);
}

EarlyEnd DescribeEarlyEnd(const KeepGoingPage& page, const ChildEnd& end,
                          int64_t now_ns) {
  EarlyEnd e;
  // Ctrl-C reaches the child and us alike; a SIGTERM sent to us alone was
  // passed on. Either way the run stops.
  e.interrupt = SupervisorInterrupted();
  if (e.interrupt == 0 && end.reaped && WIFSIGNALED(end.status) &&
      WTERMSIG(end.status) == SIGINT) {
    e.interrupt = SIGINT;
  }
  e.how = DescribeEnd(end);
  // A report says what happened; without one, how the process ended.
  const int kind = page.message_kind.load(std::memory_order_relaxed);
  e.label = "CRASHED";
  if (e.interrupt != 0) {
    e.label = "STOPPED";
  } else if (!end.outside.empty() || kind == 1) {
    e.label = "STALLED";
  } else if (kind == 2) {
    e.label = "CRASHED";
  } else if (end.reaped && WIFEXITED(end.status)) {
    e.label = "EXITED";
  } else if (end.reaped && WIFSIGNALED(end.status) &&
             WTERMSIG(end.status) == SIGKILL) {
    e.label = "KILLED";
  }
  e.phase_ns = now_ns - page.since_ns.load(std::memory_order_relaxed);
  const uint32_t bytes = page.message_bytes.load(std::memory_order_acquire);
  const std::string report(page.message, bytes);
  if (!end.outside.empty()) {
    const ArmedPhase a = page.board.Read();
    e.why =
        absl::StrCat("no report ", SecondsText(e.phase_ns),
                     " into a phase limited to ", SecondsText(a.limit_ns), " (",
                     StateSummary(end.outside), "): the supervisor killed it");
    e.message =
        absl::StrCat("gtest_watchdog: the test process gave ", e.why,
                     ". Its threads, seen from outside:\n", end.outside);
    // The child's own report never came: this one goes where it would
    // have gone.
    const std::string said = absl::StrCat("[ SUPERVISOR ] ", e.message);
    (void)fwrite(said.data(), 1, said.size(), stderr);
    (void)fflush(stderr);
  } else if (!report.empty()) {
    e.message = absl::StrCat(report, "\n(the test process ", e.how, ")");
  } else {
    e.message = absl::StrCat("gtest_watchdog: the test process ", e.how);
  }
  return e;
}

void PrepareToSuperviseChildren() {
  // A SIGKILLed child's own children come to us, not to init: they are
  // ended with it (WaitForTestChild).
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  g_own_children = new std::vector<pid_t>(OurChildren(0));
  struct sigaction sa = {};
  sa.sa_handler = PassOn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int SupervisorInterrupted() {
  return g_interrupted.load(std::memory_order_relaxed);
}

pid_t SpawnTestChild(const std::string& exe,
                     const std::vector<std::string>& argv,
                     const std::vector<std::string>& variables) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    bool parent_only = false;
    for (const char* v : kParentOnlyVariables) {
      const size_t n = strlen(v);
      if (strncmp(*e, v, n) == 0 && (*e)[n] == '=') parent_only = true;
    }
    if (!parent_only) env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), variables.begin(), variables.end());
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> arg_pointers;
  arg_pointers.reserve(args.size() + 1);
  for (std::string& s : args) arg_pointers.push_back(s.data());
  arg_pointers.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, exe.c_str(), nullptr, nullptr,
                              arg_pointers.data(), envp.data());
  if (err != 0) {
    errno = err;
    return -1;
  }
  g_running_child.store(pid, std::memory_order_relaxed);
  // A signal that came just before the child existed.
  if (const int sig = SupervisorInterrupted()) kill(pid, sig);
  return pid;
}

void WaitForTestChild(pid_t pid, int64_t start_ns,
                      const std::function<bool(int64_t)>& overran,
                      ChildEnd* end) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool killed = false;
  int64_t killed_at = 0;
  for (;;) {
    struct rusage usage;
    int status = 0;
    const pid_t got = wait4(pid, &status, WNOHANG, &usage);
    if (got == pid) {
      end->reaped = true;
      end->status = status;
      end->max_rss_kib = usage.ru_maxrss;
      break;
    }
    const int64_t now = MonotonicNowNs();
    if (killed) {
      // SIGKILL waits for a thread in uninterruptible sleep: never block
      // on it; after 5 s the child is left to the kernel.
      if (now - killed_at > 5000000000) {
        end->reaped = false;
        break;
      }
    } else if (overran(now)) {
      end->outside = OutsideView(pid);
      kill(pid, SIGKILL);
      killed = true;
      killed_at = now;
    }
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      (void)poll(&p, 1, 100);
    } else {
      struct timespec ts = {0, 5000000};
      nanosleep(&ts, nullptr);
    }
  }
  if (pidfd >= 0) close(pidfd);
  g_running_child.store(0, std::memory_order_relaxed);
  end->ran_ns = MonotonicNowNs() - start_ns;
  // What the child left running came to us (the subreaper): ended with it.
  for (pid_t orphan : OurChildren(end->reaped ? 0 : pid)) {
    bool own = false;
    if (g_own_children != nullptr) {
      for (pid_t p : *g_own_children) own |= p == orphan;
    }
    if (own) continue;
    kill(orphan, SIGKILL);
    (void)waitpid(orphan, nullptr, WNOHANG);
  }
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace gtest_watchdog_internal
