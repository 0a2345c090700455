#include "gtest_watchdog/report/stall_reporter.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>

#include "gtest/gtest.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/report/dead_man.h"
#include "gtest_watchdog/report/raw_writer.h"
#include "gtest_watchdog/report/report_helper.h"
#include "gtest_watchdog/report/snapshot.h"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

// Everything the stall path reads, set up front by Prepare().
StallPathSettings g_settings;
int g_stderr_fd = 2;
char g_exe[PATH_MAX] = {};
pid_t g_pid = 0;
std::atomic<pid_t> g_test_tid{0};
pid_t g_watchdog_tid = 0;
std::atomic<bool> g_reporting{false};

// Anonymous memory: never malloc on this path. Never unmapped: a late signal
// handler may still write into a stack slot.
void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// "Suite.Name" into buf. Reads gtest's std::string members via c_str():
// no allocation. Signal-safe as far as the objects are alive (they are for
// the whole run).
void DescribeSubject(const ArmedPhase& a, char (&test)[1024],
                     char (&suite)[512]) {
  RawWriter t(-1), s(-1);
  if (a.phase == Phase::kTest && a.subject != nullptr) {
    const auto* info = static_cast<const testing::TestInfo*>(a.subject);
    t.Str(info->test_suite_name()).Char('.').Str(info->name());
    s.Str(info->test_suite_name());
  } else if ((a.phase == Phase::kTestSuiteSetUp ||
              a.phase == Phase::kTestSuiteTearDown) &&
             a.subject != nullptr) {
    s.Str(static_cast<const testing::TestSuite*>(a.subject)->name());
  }
  const size_t tn = t.size() < sizeof(test) - 1 ? t.size() : sizeof(test) - 1;
  memcpy(test, t.data(), tn);
  test[tn] = '\0';
  const size_t sn = s.size() < sizeof(suite) - 1 ? s.size() : sizeof(suite) - 1;
  memcpy(suite, s.data(), sn);
  suite[sn] = '\0';
}

// Finds the mapping of `pc` in /proc/self/maps text. Signal-safe.
bool FindModule(const char* maps, size_t len, uint64_t pc, const char** path,
                size_t* path_len, uint64_t* offset) {
  const char* p = maps;
  const char* end = maps + len;
  while (p < end) {
    const char* eol = static_cast<const char*>(memchr(p, '\n', end - p));
    if (eol == nullptr) eol = end;
    // "start-end perms offset dev inode   path"
    uint64_t fields[3] = {};
    const char* q = p;
    for (int f = 0; f < 3; ++f) {
      while (q < eol && (*q == ' ' || *q == '-')) ++q;
      if (f == 2) {  // skip perms
        while (q < eol && *q != ' ') ++q;
        while (q < eol && *q == ' ') ++q;
      }
      uint64_t v = 0;
      for (; q < eol; ++q) {
        const char c = *q;
        if (c >= '0' && c <= '9') v = v * 16 + (c - '0');
        else if (c >= 'a' && c <= 'f') v = v * 16 + (c - 'a' + 10);
        else break;
      }
      fields[f] = v;
    }
    if (pc >= fields[0] && pc < fields[1]) {
      const char* slash = static_cast<const char*>(memchr(q, '/', eol - q));
      const char* bracket = static_cast<const char*>(memchr(q, '[', eol - q));
      const char* name = slash != nullptr ? slash : bracket;
      *path = name;
      *path_len = name != nullptr ? static_cast<size_t>(eol - name) : 0;
      *offset = pc - fields[0] + fields[2];
      return true;
    }
    p = eol + 1;
  }
  return false;
}

void WriteHeadline(RawWriter& w, const SnapshotHeader& h) {
  w.Str("[ TIMEOUT  ] ");
  if (h.test_name[0] != '\0') {
    w.Str(h.test_name).Str(": ");
  } else if (h.suite_name[0] != '\0') {
    w.Str(h.suite_name).Str(": ");
  }
  w.Str(h.phase_description).Str(" still running after ")
      .Seconds(h.elapsed_ns)
      .Str(" s (limit ")
      .Seconds(h.limit_ns)
      .Str(" s, from ")
      .Str(h.limit_origin)
      .Str(")\n");
}

// The raw report, when the helper could not produce the symbolized one.
void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count, bool helper_wrote_something) {
  static char maps[1 << 20];
  const ssize_t maps_len = ReadProcFile("/proc/self/maps", maps, sizeof(maps));
  RawWriter w(g_stderr_fd);
  if (!helper_wrote_something) WriteHeadline(w, h);
  w.Str("[ WATCHDOG ] could not symbolize (report helper failed); raw "
        "stacks follow. Resolve with: addr2line -Cfi -e MODULE OFFSET\n");
  for (int i = 0; i < count; ++i) {
    const KernelThreadInfo& k = *threads[i].kernel;
    w.Str("\nThread ").Dec(k.tid).Str(" \"").Str(k.name).Str("\" state ")
        .Char(k.state);
    if (k.tid == h.test_tid) w.Str(" (runs the test)");
    w.Str(" stack: ").Str(StackStatusId(threads[i].status));
    if (k.wchan[0] != '\0') w.Str(", wchan ").Str(k.wchan);
    w.Char('\n');
    const ThreadStack* s = threads[i].stack;
    const bool have = s != nullptr && threads[i].status == StackStatus::kOk;
    const int depth = have ? s->depth : (k.pc != 0 ? 1 : 0);
    for (int f = 0; f < depth; ++f) {
      const uint64_t pc = have ? s->pcs[f] : k.pc;
      w.Str("    #").Dec(f).Str("  ").Hex(pc);
      const char* path;
      size_t path_len;
      uint64_t off;
      if (maps_len > 0 &&
          FindModule(maps, static_cast<size_t>(maps_len), pc, &path, &path_len,
                     &off) &&
          path != nullptr) {
        w.Str("  ").Str(path, path_len).Str(" ").Hex(off);
      }
      w.Char('\n');
    }
  }
  w.Flush();
}

// Starts the report helper on the snapshot in `fd` and waits for it. True if
// it exited 0 (report complete). Sets *started when it ran at all.
bool RunHelper(int snapshot_fd, int64_t deadline_ns, bool* started) {
  *started = false;
  static char arg[64];
  {
    RawWriter w(-1);
    w.Str(kReportHelperFlag).Char('=').Dec(snapshot_fd);
    memcpy(arg, w.data(), w.size());
    arg[w.size()] = '\0';
  }
  char* argv[] = {g_exe, arg, nullptr};
  pid_t pid = 0;
  // posix_spawn, not fork(): glibc's fork takes every malloc arena lock and
  // hangs if a stuck thread holds one. No file actions: they allocate.
  if (g_exe[0] == '\0' ||
      posix_spawn(&pid, g_exe, nullptr, nullptr, argv, environ) != 0) {
    return false;
  }
  *started = true;
  DeadMan::SetHelperPid(pid);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      DeadMan::SetHelperPid(0);
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    if (r < 0 && errno != EINTR) return false;
    if (MonotonicNowNs() >= deadline_ns) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      DeadMan::SetHelperPid(0);
      return false;
    }
    const timespec pause = {0, 2000000};
    nanosleep(&pause, nullptr);
  }
}

}  // namespace

bool StallReporter::Prepare(const StallPathSettings& settings) {
  g_settings = settings;
  g_pid = getpid();
  g_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
  if (g_stderr_fd < 0) g_stderr_fd = 2;
  const ssize_t n = readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1);
  g_exe[n > 0 ? n : 0] = '\0';
  return ReportHelperLinked() && StackCollector::Install() != 0;
}

void StallReporter::AttachWatchdogThread() {
  g_watchdog_tid = static_cast<pid_t>(syscall(SYS_gettid));
  DeadMan::InstallForThisThread(g_stderr_fd);
}

void StallReporter::SetTestThread(pid_t tid) { g_test_tid.store(tid); }

void StallReporter::ReportAndAbort(const ArmedPhase& armed, int64_t now_ns) {
  if (g_reporting.exchange(true)) {
    for (;;) pause();  // another report is being written; it will abort
  }
  DeadMan::Arm(g_settings.dead_man_ns);
  // A reader that went away must give EPIPE, not kill us mid-report.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(armed, test_name, suite_name);
  SnapshotHeader header;
  header.phase_id = PhaseId(armed.phase);
  header.phase_description = PhaseDescription(armed.phase);
  header.test_name = test_name;
  header.suite_name = suite_name;
  header.limit_origin = g_settings.limit_origin;
  header.limit_ns = armed.limit_ns;
  header.elapsed_ns = now_ns - armed.start_ns;
  header.pid = g_pid;
  header.test_tid = g_test_tid.load();
  header.watchdog_tid = g_watchdog_tid;

  // Threads. Capacity grows if threads appear between the two listings.
  int capacity = 256;
  pid_t* tids = nullptr;
  int count = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    tids = static_cast<pid_t*>(MapZeroed(sizeof(pid_t) * capacity));
    if (tids == nullptr) break;
    count = ListThreadIds(tids, capacity);
    if (count <= capacity) break;
    capacity = count + count / 2;
  }
  if (tids == nullptr || count < 0) count = 0;
  if (count > capacity) count = capacity;

  auto* kernel = static_cast<KernelThreadInfo*>(
      MapZeroed(sizeof(KernelThreadInfo) * (count > 0 ? count : 1)));
  auto* stacks = static_cast<ThreadStack*>(
      MapZeroed(sizeof(ThreadStack) * (count > 0 ? count : 1)));
  auto* in = static_cast<SnapshotThreadIn*>(
      MapZeroed(sizeof(SnapshotThreadIn) * (count > 0 ? count : 1)));
  if (kernel == nullptr || stacks == nullptr || in == nullptr) count = 0;

  const int sig = StackCollector::signal_number();
  for (int i = 0; i < count; ++i) {
    new (&kernel[i]) KernelThreadInfo();
    new (&stacks[i]) ThreadStack();
    ReadKernelThreadInfo(tids[i], &kernel[i]);
    stacks[i].tid = tids[i];
    StackStatus status = StackStatus::kNoAnswer;
    const char st = kernel[i].state;
    if (kernel[i].gone) {
      status = StackStatus::kExited;
    } else if (tids[i] == g_watchdog_tid) {
      status = StackStatus::kSelf;
    } else if (sig != 0 && (kernel[i].sig_blocked >> (sig - 1)) & 1) {
      status = StackStatus::kSignalsBlocked;
    } else if (st == 'D' || st == 'T' || st == 't' || st == 'Z' ||
               st == 'X') {
      status = StackStatus::kUninterruptible;
    } else {
      stacks[i].state.store(static_cast<int>(StackState::kRequested));
    }
    in[i] = SnapshotThreadIn{&kernel[i], &stacks[i], status};
  }
  StackCollector::Collect(stacks, count,
                          MonotonicNowNs() + g_settings.answer_timeout_ns);
  for (int i = 0; i < count; ++i) {
    const int st = stacks[i].state.load();
    if (st == static_cast<int>(StackState::kDone)) {
      in[i].status = StackStatus::kOk;
    } else if (st == static_cast<int>(StackState::kAbandoned) ||
               st == static_cast<int>(StackState::kNotSent)) {
      // Distinguish "exited meanwhile" from "did not answer".
      char path[64];
      RawWriter p(-1);
      p.Str("/proc/self/task/").Dec(stacks[i].tid).Str("/stat");
      memcpy(path, p.data(), p.size());
      path[p.size()] = '\0';
      char probe[8];
      in[i].status = ReadProcFile(path, probe, sizeof(probe)) > 0
                         ? StackStatus::kNoAnswer
                         : StackStatus::kExited;
    }
  }

  const int snap_fd = static_cast<int>(syscall(SYS_memfd_create,
                                               "gtest_watchdog_snapshot", 0));
  bool ok = false;
  bool started = false;
  if (snap_fd >= 0) {
    WriteSnapshot(snap_fd, header, in, count);
    lseek(snap_fd, 0, SEEK_SET);
    ok = RunHelper(snap_fd, MonotonicNowNs() + g_settings.helper_timeout_ns,
                   &started);
  }
  if (!ok) WriteFallback(header, in, count, started);

  RawWriter w(g_stderr_fd);
  w.Str("[ ABORT    ] gtest_watchdog aborts the test program (SIGABRT). "
        "Raise the limit with --gtest_watchdog_timeout=DURATION or "
        "GTEST_WATCHDOG_TIMEOUT=DURATION.\n");
  w.Flush();
  AbortNow();
}

}  // namespace gtest_watchdog_internal
