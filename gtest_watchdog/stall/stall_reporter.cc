#include "gtest_watchdog/stall/stall_reporter.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gtest/gtest.h"
#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/child_processes.h"
#include "gtest_watchdog/dump/helper_protocol.h"
#include "gtest_watchdog/dump/memory_probe.h"
#include "gtest_watchdog/dump/proc_threads.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/dump/snapshot.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/gtest_output/after_stall.h"
#include "gtest_watchdog/stall/dead_man.h"
#include "gtest_watchdog/stall/fatal_signals.h"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

// Everything the stall path needs, set up front by Prepare() while
// allocating and opening files is still safe: a stall caused by exhausted
// descriptors or address space must not leave us without a report.
StallPathSettings g_settings;
int g_stderr_fd = 2;
char g_exe[PATH_MAX] = {};  // for messages; we exec /proc/self/exe
pid_t g_pid = 0;
pid_t g_watchdog_tid = 0;
std::atomic<bool> g_reporting{false};
int g_snapshot_fd = -1;  // memfd, CLOEXEC; dup'ed to kSnapshotFd in the helper
// Closed first on the stall path: free slots even if the process ran out of
// descriptors (listing child processes holds a directory and a file open).
int g_spare_fds[2] = {-1, -1};
int g_message_fd = -1;        // memfd: the helper's failure message for the XML
int g_go_pipe[2] = {-1, -1};  // to the helper: "ptrace permitted", pids
int g_done_pipe[2] = {-1, -1};  // from the helper: "report complete"
bool g_helper_stays = false;    // it will kill the stopped children
pid_t g_helper_pid = 0;         // never stopped with the test's children
char g_json_report[PATH_MAX] = {};
bool g_color = false;
posix_spawn_file_actions_t g_spawn_actions;
bool g_have_spawn_actions = false;
// The helper's environment: environ as Prepare() found it, copied into
// memory nobody else writes. A test may setenv() LD_PRELOAD, LD_AUDIT,
// LD_LIBRARY_PATH, GLIBC_TUNABLES or sanitizer options later; the helper,
// which may ptrace us, must not load or obey what it set. Null: the copy
// failed, and the helper is not started. Never freed.
char** g_helper_env = nullptr;
// Preallocated per-thread storage; more is mapped only for bigger processes.
constexpr int kPreallocatedThreads = 1024;
pid_t* g_tids = nullptr;
KernelThreadInfo* g_kernel = nullptr;
ThreadStack* g_stacks = nullptr;
SnapshotThreadIn* g_in = nullptr;
FutexWindow* g_futex = nullptr;
CpuSample* g_cpu = nullptr;
pid_t* g_frozen_pids = nullptr;  // the test's children: stopped, then killed
constexpr int kChildPidCapacity = 4096;
// Where the helper finds the snapshot (after stdin/stdout/stderr), where it
// leaves the failure message, and where it waits for ptrace permission.
constexpr int kSnapshotFd = 3;
constexpr int kMessageFd = kReportHelperMessageFd;
constexpr int kGoFd = kReportHelperGoFd;
constexpr int kDoneFd = kReportHelperDoneFd;
// After a signal report: how long the signalled thread's previous handler
// may take before the dead-man ends the process.
constexpr int64_t kHandOverNs = int64_t{60} * 1000000000;
// A thread whose stack has less room than this below its SP is not asked
// to unwind itself: the signal frame and the unwinder need ~4-5 KiB.
constexpr uint64_t kMinStackRoom = uint64_t{16} * 1024;

// Anonymous memory: never malloc on this path. Never unmapped: a late signal
// handler may still write into a stack slot.
void* MapZeroed(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// exit() destroys GoogleTest's objects: UnitTest is a function-local
// static, and with it go every TestSuite and TestInfo the board may still
// point at (a test that called exit() mid-test, a static destructor that
// hangs, a crash while they run). OnExitStarts, registered with atexit() in
// Prepare() — after GoogleTest made them, so it runs before their
// destructors — copies the names of the phase running at that moment; from
// then on the stall path uses only that copy and leaves GoogleTest alone. (A
// report whose first step raced the start of exit() may still read them;
// that window is a few instructions wide.)
std::atomic<bool> g_exiting{false};
const void* g_exit_subject = nullptr;
char g_exit_test[1024];
char g_exit_suite[512];
// Set once a report is out (before a signal is handed back): an exit()
// after that is the program's own business (a previous handler may exit on
// purpose); one before it would destroy what the report still reads.
std::atomic<bool> g_report_done{false};

// The thread that runs the tests, as the listener recorded it on the board;
// 0 if unknown. Signal-safe.
pid_t TestThread() {
  const DeadlineBoard* board = InstalledBoard();
  return board != nullptr ? board->test_thread() : 0;
}

// Signal-safe: no allocation, no lock.
void CopyName(char* to, size_t capacity, const char* from, size_t n) {
  if (n > capacity - 1) n = capacity - 1;
  memcpy(to, from, n);
  to[n] = '\0';
}

// "Suite.Name" into buf. Reads gtest's std::string members via c_str():
// no allocation, no lock. Signal-safe as far as the objects are alive: until
// exit() starts (see g_exiting); from then on only the names copied then,
// for the phase that ran then, are used.
void DescribeSubject(const ArmedPhase& a, char (&test)[1024],
                     char (&suite)[512]) {
  if (g_exiting.load(std::memory_order_acquire)) {
    const bool same = a.subject != nullptr && a.subject == g_exit_subject;
    CopyName(test, sizeof(test), g_exit_test, same ? strlen(g_exit_test) : 0);
    CopyName(suite, sizeof(suite), g_exit_suite,
             same ? strlen(g_exit_suite) : 0);
    return;
  }
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
  CopyName(test, sizeof(test), t.data(), t.size());
  CopyName(suite, sizeof(suite), s.data(), s.size());
}

// atexit hook, first of the exit handlers registered before it ran (see
// g_exiting): copies the running phase's names while GoogleTest's objects
// still live, then says the program is exiting. If a report is being
// written, the exiting thread waits for its end here, before the static
// destructors could destroy what it reads. No allocation, no lock (a
// bounded wait for a publish in progress); signal-safe.
void OnExitStarts() {
  DeadlineBoard* board = InstalledBoard();
  if (board == nullptr || getpid() != g_pid) return;  // a forked child
  if (board->frozen() && !g_report_done.load()) ParkForever();
  const ArmedPhase now = board->Read();
  DescribeSubject(now, g_exit_test, g_exit_suite);
  g_exit_subject = now.subject;
  g_exiting.store(true, std::memory_order_release);
}

// One line of /proc/self/maps, as much as the stall path needs.
struct Mapping {
  uint64_t start;
  uint64_t end;
  bool grows_down;  // the main thread's "[stack]"
};

// Parses /proc/self/maps text (sorted by address) into `out`. Returns the
// number of mappings. Signal-safe.
int ParseMappings(const char* maps, size_t len, Mapping* out, int capacity) {
  int n = 0;
  const char* p = maps;
  const char* end = maps + len;
  while (p < end && n < capacity) {
    const char* eol = static_cast<const char*>(memchr(p, '\n', end - p));
    if (eol == nullptr) eol = end;
    const char* q = p;
    ParseHex(q, eol, &out[n].start);
    ++q;  // '-'
    ParseHex(q, eol, &out[n].end);
    const char* name = static_cast<const char*>(memchr(q, '[', eol - q));
    out[n].grows_down =
        name != nullptr && eol - name >= 7 && memcmp(name, "[stack]", 7) == 0;
    ++n;
    p = eol + 1;
  }
  return n;
}

// Room left below `sp` in its mapping (binary search); 0 if no mapping
// holds it. The main thread's "[stack]" grows on demand, so its mapping's
// start says nothing about the room left: never "small". Signal-safe.
uint64_t StackRoom(const Mapping* maps, int n, uint64_t sp) {
  int lo = 0;
  int hi = n;
  while (lo < hi) {  // first mapping with start > sp
    const int mid = lo + (hi - lo) / 2;
    if (maps[mid].start <= sp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0 || sp >= maps[lo - 1].end) return 0;
  return maps[lo - 1].grows_down ? UINT64_MAX : sp - maps[lo - 1].start;
}

// Module and the address addr2line wants for `pc` (relative to the
// module's load bias, right for PIE, non-PIE and lld layouts alike).
// _dl_find_object is lock-free and async-signal-safe (glibc >= 2.35).
bool FindModule(uint64_t pc, const char** path, uint64_t* address) {
  dl_find_object found;
  if (_dl_find_object(reinterpret_cast<void*>(pc), &found) != 0 ||
      found.dlfo_link_map == nullptr) {
    return false;
  }
  const char* name = found.dlfo_link_map->l_name;
  *path = (name != nullptr && name[0] != '\0') ? name : g_exe;
  *address = pc - found.dlfo_link_map->l_addr;
  return true;
}

// The report's first line, written by the stall path itself. Signal-safe:
// no allocation, no lock.
void WriteHeadline(RawWriter& w, const SnapshotHeader& h) {
  const SignalFacts& sig = h.signal;
  if (sig.signo != 0) {
    w.Str(strcmp(h.kind, "crash") == 0 ? "[ CRASH    ] " : "[ SIGNAL   ] ");
    if (h.test_name[0] != '\0') {
      w.Escaped(h.test_name).Str(": ");
    } else if (h.suite_name[0] != '\0') {
      w.Escaped(h.suite_name).Str(": ");
    }
    w.Str(h.phase_description).Str(": ").Str(SignalName(sig.signo));
    const char* how = SignalCodeText(sig.signo, sig.code);
    if (*how != '\0') w.Str(" (").Str(how).Str(")");
    if (IsFault(sig.signo, sig.code)) w.Str(" at address ").Hex(sig.fault_addr);
    if (sig.sender_pid != 0) w.Str(" from pid ").Dec(sig.sender_pid);
    w.Str(" in thread ").Dec(sig.tid).Char('\n');
    return;
  }
  w.Str("[ TIMEOUT  ] ");
  if (strcmp(h.kind, "total-timeout") == 0) {
    w.Str("the whole test run still running after ")
        .Seconds(h.elapsed_ns)
        .Str(" s (limit ")
        .Seconds(h.limit_ns)
        .Str(" s, from ")
        .Str(h.limit_origin)
        .Str(")\n[ TIMEOUT  ] running now: ");
  }
  if (h.test_name[0] != '\0') {
    w.Escaped(h.test_name).Str(": ");
  } else if (h.suite_name[0] != '\0') {
    w.Escaped(h.suite_name).Str(": ");
  }
  w.Str(h.phase_description)
      .Str(" still running after ")
      .Seconds(h.elapsed_ns)
      .Str(" s (limit ")
      .Seconds(h.limit_ns)
      .Str(" s, from ")
      .Str(h.limit_origin)
      .Str(")\n");
}

// The raw report, when the helper could not produce the symbolized one.
// Stall path: signal-safe, no allocation, no lock.
void WriteFallback(const SnapshotHeader& h, const SnapshotThreadIn* threads,
                   int count) {
  RawWriter w(g_stderr_fd);
  WriteHeadline(w, h);
  w.Str(
      "[ WATCHDOG ] could not symbolize (report helper failed); raw "
      "stacks follow. Resolve with: addr2line -Cfi -e MODULE ADDRESS\n");
  for (int i = 0; i < count; ++i) {
    const KernelThreadInfo& k = *threads[i].kernel;
    w.Str("\nThread ")
        .Dec(k.tid)
        .Str(" \"")
        .Escaped(k.name)
        .Str("\" state ")
        .Char(k.state);
    if (k.tid == h.test_tid) w.Str(" (runs the test)");
    w.Str(" stack: ").Str(StackStatusId(threads[i].status));
    if (k.wchan[0] != '\0') w.Str(", wchan ").Escaped(k.wchan);
    w.Char('\n');
    const ThreadStack* s = threads[i].stack;
    const bool have = s != nullptr && threads[i].status == StackStatus::kOk;
    const int depth = have ? s->depth : (k.pc != 0 ? 1 : 0);
    for (int f = 0; f < depth; ++f) {
      const uint64_t pc = have ? s->pcs[f] : k.pc;
      w.Str("    #").Dec(f).Str("  ").Hex(pc);
      const char* path;
      uint64_t address;
      if (FindModule(pc, &path, &address)) {
        w.Str("  ").Escaped(path).Str(" ").Hex(address);
      }
      w.Char('\n');
    }
  }
  w.Flush();
}

// Starts the report helper on the snapshot and waits for it. True if it
// exited 0 (report complete). Signal-safe: no allocation (posix_spawn maps
// its child's stack with mmap), no lock; everything it passes — file
// actions, argv, the environment copy — was prepared before.
bool RunHelper(int64_t deadline_ns) {
  static char arg[64];
  {
    RawWriter w(-1);
    w.Str(kReportHelperFlag).Char('=').Dec(kSnapshotFd);
    memcpy(arg, w.data(), w.size());
    arg[w.size()] = '\0';
  }
  // Without the file actions the helper would read whatever the program has
  // on fd 3 and write into its fd 4: never start it that way.
  if (!g_have_spawn_actions || g_helper_env == nullptr) return false;
  static char exe[] = "/proc/self/exe";
  char* argv[] = {exe, arg, nullptr};
  // A SIGCHLD disposition of SIG_IGN (or a handler reaping every child)
  // would take the helper's exit status from us. We abort anyway.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, nullptr);
  pid_t pid = 0;
  // posix_spawn, not fork(): glibc's fork takes every malloc arena lock and
  // hangs if a stuck thread holds one. /proc/self/exe, not the path: the
  // CLONE_VM child resolves it to our own executable even if the file was
  // deleted or rebuilt meanwhile. The file actions and the environment
  // (not environ: what the test set since start-up stays out) were built in
  // Prepare(); passing them reads, never allocates.
  if (posix_spawn(&pid, exe, &g_spawn_actions, nullptr, argv, g_helper_env) !=
      0) {
    return false;
  }
  DeadMan::SetHelperPid(pid);
  g_helper_pid = pid;
  // Under Yama's ptrace_scope 1 a child may not trace its parent unless
  // named: permit the helper, and only it, to unwind threads that could not
  // answer our signal; withdrawn as soon as it is done. EINVAL without Yama.
  prctl(PR_SET_PTRACER, pid, 0, 0, 0);
  if (g_go_pipe[1] >= 0) {
    const char go = 'g';
    while (write(g_go_pipe[1], &go, 1) < 0 && errno == EINTR) {
    }
  }
  for (;;) {
    // Complete: it stays to kill the children we stop, after we are gone.
    char done = 0;
    if (read(g_done_pipe[0], &done, 1) == 1) {
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      g_helper_stays = true;
      return true;
    }
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    if (r < 0 && errno != EINTR) {
      // A test thread in wait(-1) may have reaped the helper (ECHILD). It
      // writes the failure message last, after the report: its presence
      // says the report is complete.
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      struct stat st;
      return fstat(g_message_fd, &st) == 0 && st.st_size > 0;
    }
    if (MonotonicNowNs() >= deadline_ns) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      return false;
    }
    const timespec pause = {0, 2000000};
    nanosleep(&pause, nullptr);
  }
}

// The failure message the helper left in the message memfd, or the
// headline alone. Then GoogleTest's XML/JSON output, if one was requested.
// Allocates (GoogleTest's printers): runs last, under the dead-man timer.
void WriteGoogleTestOutput(const SnapshotHeader& header, bool helper_ok) {
  if (!GtestOutputRequested()) return;  // nothing to allocate for
  static char message[64 * 1024];
  size_t len = 0;
  if (helper_ok && g_message_fd >= 0 && lseek(g_message_fd, 0, SEEK_SET) == 0) {
    for (;;) {
      const ssize_t n =
          read(g_message_fd, message + len, sizeof(message) - 1 - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      len += static_cast<size_t>(n);
    }
  }
  if (len == 0) {
    RawWriter h(-1);
    WriteHeadline(h, header);
    len = h.size() < sizeof(message) - 1 ? h.size() : sizeof(message) - 1;
    memcpy(message, h.data(), len);
  }
  message[len] = '\0';
  // GoogleTest's printers allocate: with the address space exhausted that
  // throws, and the report is out already. Say so; never terminate here. A
  // program built with -fno-exceptions cannot catch: operator new then ends
  // it, as it would anywhere, with the report complete.
#if defined(__cpp_exceptions)
  try {
#endif
    const GtestOutputWritten written =
        WriteGtestOutputAfterStall(std::string(message, len));
    const char* what = header.signal.signo == 0            ? "stalled"
                       : strcmp(header.kind, "crash") == 0 ? "crashed"
                                                           : "interrupted";
    const char* where = header.test_name[0] != '\0' ? "test" : "phase";
    RawWriter w(g_stderr_fd);
    if (written.kind == GtestOutputWritten::Kind::kComplete) {
      w.Str("[ OUTPUT   ] ")
          .Escaped(written.path.c_str())
          .Str(" written, with the ")
          .Str(what)
          .Char(' ')
          .Str(where)
          .Str(" failed\n");
    } else if (written.kind == GtestOutputWritten::Kind::kMinimal) {
      w.Str("[ OUTPUT   ] ")
          .Escaped(written.path.c_str())
          .Str(": GoogleTest's output generator ")
          .Str(written.why.c_str())
          .Str("; a minimal file with only the ")
          .Str(what)
          .Char(' ')
          .Str(where)
          .Str(
              "'s failure is there instead (the other tests' results are "
              "not in it)\n");
    }
#if defined(__cpp_exceptions)
  } catch (...) {
    RawWriter w(g_stderr_fd);
    w.Str(
        "[ WATCHDOG ] could not write GoogleTest's output file (out of "
        "memory?)\n");
  }
#endif
}

// Our descriptors live above the helper's fixed ones (2-5): the file
// actions dup2 them onto 2-5 one after another, and a source that is itself
// one of those numbers (a program that closed stdin/stdout) would be
// overwritten before it is copied.
constexpr int kFirstPrivateFd = 10;
int AboveHelperFds(int fd) {
  if (fd < 0 || fd >= kFirstPrivateFd) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, kFirstPrivateFd);
  close(fd);
  return high;
}

template <typename T>
T* MapArray(int n) {
  return static_cast<T*>(MapZeroed(sizeof(T) * static_cast<size_t>(n)));
}

// A copy of the NULL-terminated `env` (the strings too) that later
// setenv/putenv calls cannot change; null without memory. Allocates: start-up
// only (Prepare), never on the stall path. Never freed.
char** CopyEnvironment(char* const* env) {
  size_t count = 0;
  size_t bytes = 0;
  for (char* const* e = env; e != nullptr && *e != nullptr; ++e) {
    ++count;
    bytes += strlen(*e) + 1;
  }
  char** copy = new (std::nothrow) char*[count + 1];
  char* text = new (std::nothrow) char[bytes > 0 ? bytes : 1];
  if (copy == nullptr || text == nullptr) {
    delete[] copy;
    delete[] text;
    return nullptr;
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t len = strlen(env[i]) + 1;
    memcpy(text, env[i], len);
    copy[i] = text;
    text += len;
  }
  copy[count] = nullptr;
  return copy;
}

}  // namespace

bool StallReporter::Prepare(const StallPathSettings& settings) {
  g_settings = settings;
  g_pid = getpid();
  g_stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, kFirstPrivateFd);
  if (g_stderr_fd < 0 && errno == EBADF) {
    // Started without stderr (2>&-): the report goes nowhere, but not into
    // whatever the program opens later as fd 2 (or into our own spare
    // descriptors, opened below), and the helper, which needs an fd 2 to
    // start, still writes the JSON report and the failure message.
    g_stderr_fd = AboveHelperFds(open("/dev/null", O_WRONLY | O_CLOEXEC));
  }
  if (g_stderr_fd < 0) g_stderr_fd = 2;
  const ssize_t n = readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1);
  g_exe[n > 0 ? n : 0] = '\0';

  g_snapshot_fd = AboveHelperFds(static_cast<int>(
      syscall(SYS_memfd_create, kSnapshotMemfdName, MFD_CLOEXEC)));
  g_message_fd = AboveHelperFds(static_cast<int>(
      syscall(SYS_memfd_create, "gtest_watchdog_message", MFD_CLOEXEC)));
  for (int* p : {g_go_pipe, g_done_pipe}) {
    if (pipe2(p, O_CLOEXEC) == 0) {
      p[0] = AboveHelperFds(p[0]);
      p[1] = AboveHelperFds(p[1]);
    } else {
      p[0] = p[1] = -1;
    }
  }
  // Our end of the done pipe is polled, never blocked on.
  if (g_done_pipe[0] >= 0) fcntl(g_done_pipe[0], F_SETFL, O_NONBLOCK);
  for (int& fd : g_spare_fds) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_color = settings.color;
  if (settings.json_report.size() < sizeof(g_json_report)) {
    memcpy(g_json_report, settings.json_report.c_str(),
           settings.json_report.size() + 1);
  }
  // The helper gets the report's stderr (our copy of fd 2 as it was at
  // start-up, not whatever a test redirected fd 2 to), the snapshot on
  // kSnapshotFd, and no other descriptor of ours.
  if (g_snapshot_fd >= 0 && g_message_fd >= 0 && g_go_pipe[0] >= 0 &&
      g_done_pipe[1] >= 0 &&
      posix_spawn_file_actions_init(&g_spawn_actions) == 0) {
    g_have_spawn_actions =
        posix_spawn_file_actions_adddup2(&g_spawn_actions, g_stderr_fd, 2) ==
            0 &&
        posix_spawn_file_actions_adddup2(&g_spawn_actions, g_snapshot_fd,
                                         kSnapshotFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_spawn_actions, g_message_fd,
                                         kMessageFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_spawn_actions, g_go_pipe[0],
                                         kGoFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_spawn_actions, g_done_pipe[1],
                                         kDoneFd) == 0 &&
        posix_spawn_file_actions_addclosefrom_np(&g_spawn_actions,
                                                 kDoneFd + 1) == 0;
  }
  // Once, at start-up (with whatever main() set before InitGoogleTest):
  // the environment of every helper this process may start.
  if (g_helper_env == nullptr) g_helper_env = CopyEnvironment(environ);
  g_tids = MapArray<pid_t>(kPreallocatedThreads);
  g_kernel = MapArray<KernelThreadInfo>(kPreallocatedThreads);
  g_stacks = MapArray<ThreadStack>(kPreallocatedThreads);
  g_in = MapArray<SnapshotThreadIn>(kPreallocatedThreads);
  g_futex = MapArray<FutexWindow>(kPreallocatedThreads);
  g_cpu = MapArray<CpuSample>(kPreallocatedThreads);
  g_frozen_pids = MapArray<pid_t>(kChildPidCapacity);
  // After GoogleTest's objects were made (InitGoogleTest ran): runs before
  // the static destructors that end them.
  if (atexit(&OnExitStarts) != 0) {
    // Only without memory for the handler list: a report during exit()
    // then reads GoogleTest's objects as it always did.
  }
  return g_have_spawn_actions && g_helper_env != nullptr && g_tids != nullptr &&
         g_kernel != nullptr && g_stacks != nullptr && g_in != nullptr &&
         g_futex != nullptr && g_cpu != nullptr && g_frozen_pids != nullptr &&
         StackCollector::Install() != 0;
}

void StallReporter::AttachWatchdogThread() {
  g_watchdog_tid = static_cast<pid_t>(syscall(SYS_gettid));
  FatalSignals::SetReportingThread(g_watchdog_tid);
  DeadMan::InstallForThisThread(g_stderr_fd);
  // Only the signals the stall path relies on reach this thread: a
  // program's own handlers (printf, malloc) must not run here mid-report,
  // and a mask inherited from main() must not silence the dead-man.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  sigset_t needed;
  sigemptyset(&needed);
  sigaddset(&needed, SIGABRT);
  // A fault here (in the report itself) must reach a handler: blocked, the
  // kernel would end the process by it at once, skipping every handler.
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    sigaddset(&needed, fault);
  }
  if (DeadMan::signal_number() != 0)
    sigaddset(&needed, DeadMan::signal_number());
  pthread_sigmask(SIG_UNBLOCK, &needed, nullptr);
}

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
  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(armed, test_name, suite_name);
  RawWriter w(g_stderr_fd);
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

// Moves `tid`, if listed in tids[0..count), into tids[0..keep) (swapping
// it with the last of those), so that listing only the first `keep` threads
// still lists it. No allocation, no lock; signal-safe.
void KeepFirst(pid_t* tids, int count, int keep, pid_t tid) {
  if (tid <= 0 || keep <= 0) return;
  for (int i = 0; i < count; ++i) {
    if (tids[i] != tid) continue;
    if (i >= keep) {
      tids[i] = tids[keep - 1];
      tids[keep - 1] = tid;
    }
    return;
  }
}

// Sleeps until `cpu_sample_ns` after the first CPU sample. The second pass
// visits the threads in the same order and does more per thread than the
// first, so every thread's own interval is at least that long (each is
// measured, not assumed). A thread that was runnable for most of it is
// busy; one that kept being put back on a CPU while using little of it
// makes slow progress. Signal-safe: clock_nanosleep only; no allocation,
// no lock.
void WaitForCpuInterval(const CpuSample* cpu, int count) {
  int64_t start = -1;
  for (int i = 0; i < count && start < 0; ++i) start = cpu[i].at_ns;
  if (start < 0) return;
  const int64_t until = start + g_settings.cpu_sample_ns;
  const timespec wake = {static_cast<time_t>(until / 1000000000),
                         static_cast<long>(until % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr) ==
         EINTR) {
  }
}

// Steps 2-7 of the stall path, shared by stalls and signals: threads, their
// stacks, the snapshot, the helper (or the raw fallback), the children
// stopped, GoogleTest's output. `ev` is the signal being reported, or null;
// its thread's stack was taken by the handler and is not asked for again.
// `write_output`: GoogleTest's output is about the phase the board shows.
// Returns the number of children stopped (in g_frozen_pids). Signal-safe
// in the sense above, up to GoogleTest's output.
int CollectAndReport(const SnapshotHeader& header, const SignalEvent* ev,
                     bool write_output) {
  // Free descriptors even if the process ran out of them.
  for (int fd : g_spare_fds) {
    if (fd >= 0) close(fd);
  }

  // Threads: preallocated storage; map more only for bigger processes.
  int capacity = kPreallocatedThreads;
  pid_t* tids = g_tids;
  KernelThreadInfo* kernel = g_kernel;
  ThreadStack* stacks = g_stacks;
  SnapshotThreadIn* in = g_in;
  FutexWindow* futex = g_futex;
  CpuSample* cpu = g_cpu;
  int count = tids != nullptr ? ListThreadIds(tids, capacity) : -1;
  for (int attempt = 0; count > capacity && attempt < 3; ++attempt) {
    const int want = count + count / 2;
    pid_t* more = MapArray<pid_t>(want);
    if (more == nullptr) break;
    tids = more;
    capacity = want;
    count = ListThreadIds(tids, capacity);
  }
  if (count < 0) count = 0;
  if (count > capacity) count = capacity;  // the rest go unlisted
  if (count > kPreallocatedThreads) {
    kernel = MapArray<KernelThreadInfo>(count);
    stacks = MapArray<ThreadStack>(count);
    in = MapArray<SnapshotThreadIn>(count);
    futex = MapArray<FutexWindow>(count);
    cpu = MapArray<CpuSample>(count);
    if (kernel == nullptr || stacks == nullptr || in == nullptr) {
      // No address space left for more (a process near RLIMIT_AS): list as
      // many as the storage prepared at start-up holds, the thread the
      // report is about among them, rather than none.
      kernel = g_kernel;
      stacks = g_stacks;
      in = g_in;
      futex = g_futex;
      cpu = g_cpu;
      // The signalled thread below the last slot, then the test's thread
      // into it: neither move can push the other out.
      if (ev != nullptr) {
        KeepFirst(tids, count, kPreallocatedThreads - 1, ev->facts.tid);
      }
      KeepFirst(tids, count, kPreallocatedThreads, TestThread());
      count = kPreallocatedThreads;
    }
  }
  if (kernel == nullptr || stacks == nullptr || in == nullptr) count = 0;

  // The room left on each blocked thread's stack, from the mappings.
  // Parsed once, searched per thread: with thousands of threads the maps
  // have thousands of lines.
  static char maps[4 << 20];
  const ssize_t maps_len = ReadProcFile("/proc/self/maps", maps, sizeof(maps));
  int lines = 0;
  for (ssize_t c = 0; c < maps_len; ++c) lines += maps[c] == '\n';
  Mapping* mappings = maps_len > 0 ? MapArray<Mapping>(lines + 1) : nullptr;
  const int mapping_count =
      mappings != nullptr ? ParseMappings(maps, static_cast<size_t>(maps_len),
                                          mappings, lines + 1)
                          : 0;

  // CPU use over an interval in which nothing disturbs the threads: first
  // samples, the wait, then the second sample with everything else, right
  // before the stacks (so the system call and futex memory read below are
  // as fresh as the stacks). Not for a crash: the crash is the verdict.
  const bool sample_cpu = cpu != nullptr && g_settings.cpu_sample_ns > 0 &&
                          strcmp(header.kind, "crash") != 0;
  if (sample_cpu) {
    for (int i = 0; i < count; ++i) SampleThreadCpu(tids[i], &cpu[i]);
    WaitForCpuInterval(cpu, count);
  }

  const int sig = StackCollector::signal_number();
  for (int i = 0; i < count; ++i) {
    new (&kernel[i]) KernelThreadInfo();
    new (&stacks[i]) ThreadStack();
    ReadKernelThreadInfo(tids[i], &kernel[i]);
    if (sample_cpu && !kernel[i].gone) {
      CpuSample second;
      SampleThreadCpu(tids[i], &second);
      SetCpuUse(cpu[i], second, &kernel[i]);
    }
    stacks[i].tid = tids[i];
    StackStatus status = StackStatus::kNoAnswer;
    const char st = kernel[i].state;
    if (ev != nullptr && tids[i] == ev->facts.tid) {
      // The signalled thread: its handler unwound it from the interrupted
      // instruction (at least the PC); asked again, it would show the
      // handler's frames.
      status = StackStatus::kOk;
      // /proc shows our handler's wait: the call it interrupted instead.
      kernel[i].syscall_nr = ev->facts.syscall_nr;
      memcpy(kernel[i].syscall_args, ev->facts.syscall_args,
             sizeof(kernel[i].syscall_args));
      stacks[i].depth = ev->stack.depth;
      stacks[i].truncated = ev->stack.truncated;
      memcpy(stacks[i].pcs, ev->stack.pcs, sizeof(stacks[i].pcs));
      stacks[i].state.store(static_cast<int>(StackState::kDone));
    } else if (kernel[i].gone) {
      status = StackStatus::kExited;
    } else if (tids[i] == g_watchdog_tid) {
      status = StackStatus::kSelf;
    } else if (sig != 0 && (kernel[i].sig_blocked >> (sig - 1)) & 1) {
      status = StackStatus::kSignalsBlocked;
    } else if (st == 'D' || st == 'T' || st == 't' || st == 'Z' || st == 'X') {
      status = StackStatus::kUninterruptible;
    } else if (kernel[i].sp != 0 && mapping_count > 0 &&
               StackRoom(mappings, mapping_count, kernel[i].sp) <
                   kMinStackRoom) {
      status = StackStatus::kSmallStack;  // a handler would overflow it
    } else {
      stacks[i].state.store(static_cast<int>(StackState::kRequested));
    }
    in[i] = SnapshotThreadIn{&kernel[i], &stacks[i], status, nullptr};
    // The memory around a futex a thread sleeps on tells whose lock it is.
    if (futex != nullptr && kernel[i].syscall_nr == SYS_futex &&
        !kernel[i].gone) {
      ProbeFutexWindow(kernel[i].syscall_args[0], &futex[i]);
      in[i].futex = &futex[i];
    }
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

  bool ok = false;
  if (g_snapshot_fd >= 0) {
    WriteSnapshot(g_snapshot_fd, header, in, count);
    lseek(g_snapshot_fd, 0, SEEK_SET);
    ok = RunHelper(MonotonicNowNs() + g_settings.helper_timeout_ns);
  }
  if (!ok) WriteFallback(header, in, count);

  // The test's child processes are stopped first: a test thread waiting
  // for one (waitpid, a pipe) must not wake up and run on — edit
  // GoogleTest's results, or even finish the run — before the abort. They
  // are killed right before it (and by the dead-man if the next step
  // hangs); SIGKILL, not SIGTERM: a child given time to exit would wake the
  // test up.
  int frozen = 0;
  if (g_frozen_pids != nullptr) {
    // Not the helper: stopped, it could neither finish nor kill the others,
    // and would hold the report's stderr pipe open for ever.
    frozen = FreezeDescendants(g_pid, g_frozen_pids, kChildPidCapacity,
                               g_helper_pid);
    if (frozen < 0) frozen = 0;
    if (frozen > 0) DeadMan::SetChildPids(g_frozen_pids, frozen);
    // The helper kills them the moment we are gone: killed now, they would
    // wake a test waiting for them, which would run on until our abort.
    if (g_helper_stays && frozen > 0) {
      const ssize_t bytes = static_cast<ssize_t>(sizeof(pid_t)) * frozen;
      g_helper_stays =
          WriteAll(g_go_pipe[1], reinterpret_cast<const char*>(g_frozen_pids),
                   static_cast<size_t>(bytes));
    }
  }
  // Only if the test program is still where the report found it: a phase
  // that ended just as its limit passed must not be failed in the file.
  // Never once exit() has begun: GoogleTest's results are being destroyed.
  if (write_output && g_exiting.load(std::memory_order_acquire)) {
    if (GtestOutputRequested()) {
      RawWriter w(g_stderr_fd);
      w.Str(
           "[ WATCHDOG ] GoogleTest's output file is not written: the program "
           "was already exiting, and GoogleTest's results are destroyed with "
           "its static objects")
          .Str(StaleOutputNote(RemoveStaleGtestOutput()))
          .Str("\n");
    }
  } else if (write_output) {
    WriteGoogleTestOutput(header, ok);
  } else if (GtestOutputRequested()) {
    RawWriter w(g_stderr_fd);
    w.Str(
         "[ WATCHDOG ] GoogleTest's output file is not written: the test "
         "program moved on while the report was taken")
        .Str(StaleOutputNote(RemoveStaleGtestOutput()))
        .Str("\n");
  }

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
  for (int i = 0; !g_helper_stays && i < frozen; ++i) {
    if (g_frozen_pids[i] > 1) kill(g_frozen_pids[i], SIGKILL);
  }
}

// The header fields every report shares. Signal-safe.
void FillCommonHeader(SnapshotHeader* header, const char* test_name,
                      const char* suite_name) {
  header->test_name = test_name;
  header->suite_name = suite_name;
  header->pid = g_pid;
  header->test_tid = TestThread();
  header->watchdog_tid = g_watchdog_tid;
  header->color = g_color;
  header->json_report = g_json_report;
}

}  // namespace

void StallReporter::ReportAndAbort(Action kind, const ArmedPhase& fired,
                                   const TotalLimit& total, int64_t now_ns) {
  static char test_name[1024];
  static char suite_name[512];
  DescribeSubject(fired, test_name, suite_name);
  if (DebuggerAttached()) {
    RawWriter w(g_stderr_fd);
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
  DeadMan::Arm(g_settings.dead_man_ns);
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

  RawWriter w(g_stderr_fd);
  w.Str(
      "[ ABORT    ] gtest_watchdog aborts the test program (SIGABRT). "
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
  DeadMan::Arm(g_settings.dead_man_ns, "the report",
               /*reset_sigabrt=*/false);
  BlockSigpipe();
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

  RawWriter w(g_stderr_fd);
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
  g_report_done.store(true);  // an exit() from here on is the program's own
  FatalSignals::HandBack();
  ParkForever();  // the signalled thread ends the process
}

}  // namespace gtest_watchdog_internal
