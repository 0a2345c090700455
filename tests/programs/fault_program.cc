// Fault injection: tests that stall, crash or end while the process around
// them is in a bad state — thousands of threads, threads starting and
// exiting all through the report, the watchdog's signals taken, blocked or
// replaced, no file descriptor or address space left, stderr closed or a
// pipe nobody reads any more, exit() and quick_exit() mid-test, detached
// threads and hanging static destructors at exit, --gtest_repeat with
// failures, death tests, fork() and vfork(), and a crash, a signal or a
// deadline arriving while a report is being written. The harness
// (tests/integration/fault_test.cc) selects one with --gtest_filter and
// asserts on the report, how the process ended and how long it took.
// Lines marked `// @block:NAME` are where a thread waits: the harness
// expects `fault_program.cc:LINE` in the report.
//
// Set before main() by environment variables (the harness sets them):
//   FAULT_TAKE_SIGNALS=ours  handlers on the two real-time signals the
//                            watchdog would pick (SIGRTMAX-2, SIGRTMAX-3)
//   FAULT_TAKE_SIGNALS=all   handlers on every real-time signal
//   FAULT_STDERR=broken_pipe fd 2 is a pipe whose read end is closed
//   FAULT_STDERR=held        fd 2 is a pipe a thread drains, except while
//                            a test holds it back
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "program_helpers.h"

namespace {

using gtest_watchdog_test_programs::LimitAddressSpaceToCurrentPlus;

using gtest_watchdog_test_programs::WaitUntilIn;

// Keeps the optimizer from removing what the tests do on purpose.
std::atomic<long> g_sink{0};
// Not null: UndefinedBehaviorSanitizer would catch a null store before it
// faults. Address 16 is never mapped (mmap_min_addr).
int* volatile g_bad = reinterpret_cast<int*>(16);

// To stdout: in some scenarios stderr is closed or goes nowhere.
void Say(const char* text) {
  if (write(1, text, strlen(text)) < 0) g_sink.fetch_add(1);
}

void SayNumber(const char* text, long n) {
  char line[128];
  snprintf(line, sizeof(line), "%s%ld\n", text, n);
  Say(line);
}

bool EnvIs(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

__attribute__((noinline)) void SleepForever() {
  for (;;) pause();  // @block:sleep
}

__attribute__((noinline)) void WriteThroughBadPointer() {
  *g_bad = 42;  // @block:crash
}

// A thread waiting on a condition variable nobody notifies: every report
// has a second thread to show. Returns once it waits. Never destroyed:
// glibc's pthread_cond_destroy waits for the waiters to leave, so a static
// one would hang exit().
std::mutex* const g_worker_mutex = new std::mutex;
std::condition_variable* const g_worker_cv = new std::condition_variable;
__attribute__((noinline)) void WorkerWaits() {
  std::unique_lock<std::mutex> lock(*g_worker_mutex);
  g_worker_cv->wait(lock, [] { return false; });  // @block:worker
}
void StartWorker() {
  std::atomic<pid_t> tid{0};
  std::thread([&tid] {
    pthread_setname_np(pthread_self(), "fault_worker");
    tid.store(Tid());
    WorkerWaits();
  }).detach();
  while (tid.load() == 0) usleep(1000);
  WaitUntilIn(tid.load(), "202");
}

// --- real-time signals taken before gtest_watchdog starts ---

// The harness checks this line never appears: our signals must not reach
// the program's handlers.
void ProgramRealTimeHandler(int) {
  Say("fault_program: the program's own real-time handler ran\n");
}

void TakeRealTimeSignals(int low, int high) {
  for (int sig = low; sig <= high; ++sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = &ProgramRealTimeHandler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

const bool g_signals_taken = [] {
  if (EnvIs("FAULT_TAKE_SIGNALS", "ours")) {
    TakeRealTimeSignals(SIGRTMAX - 3, SIGRTMAX - 2);
    return true;
  }
  if (EnvIs("FAULT_TAKE_SIGNALS", "all")) {
    TakeRealTimeSignals(SIGRTMIN, SIGRTMAX);
    return true;
  }
  return false;
}();

// --- stderr replaced before gtest_watchdog starts ---

// FAULT_STDERR=held: fd 2 is a pipe that a thread of ours drains (to
// nowhere), except while a test holds it back until a given time.
int g_held_write_end = -1;
std::atomic<int64_t> g_hold_until_ns{0};
std::atomic<bool> g_holding{false};

void Drain(int read_end) {
  // SIGQUIT is for the thread running the test, never for this one.
  sigset_t quit;
  sigemptyset(&quit);
  sigaddset(&quit, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &quit, nullptr);
  char buf[65536];
  for (;;) {
    const int64_t until = g_hold_until_ns.load();
    if (until > NowNs()) {
      g_holding.store(true);
      const timespec wake = {static_cast<time_t>(until / 1000000000),
                             static_cast<long>(until % 1000000000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nullptr);
      continue;
    }
    g_holding.store(false);
    const ssize_t n = read(read_end, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
  }
}

const bool g_stderr_replaced = [] {
  int fds[2];
  if (EnvIs("FAULT_STDERR", "broken_pipe")) {
    // Every write to fd 2 now raises SIGPIPE (or fails with EPIPE).
    if (pipe(fds) != 0) return false;
    dup2(fds[1], 2);
    close(fds[1]);
    close(fds[0]);
    return true;
  }
  if (EnvIs("FAULT_STDERR", "held")) {
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    dup2(fds[1], 2);
    g_held_write_end = fds[1];
    std::thread(Drain, fds[0]).detach();
    return true;
  }
  return false;
}();

// --- a static destructor that hangs, once a test asks for it ---

std::atomic<bool> g_hang_at_exit{false};
struct HangAtExit {
  ~HangAtExit() {
    if (g_hang_at_exit.load()) SleepForever();
  }
} g_hang_at_exit_object;

// ========================== threads ==========================

// 5,000 threads blocked on one mutex the test thread holds. Small stacks:
// 5,000 default ones would be 40 GiB of address space.
pthread_mutex_t g_crowd_mutex = PTHREAD_MUTEX_INITIALIZER;
std::atomic<int> g_crowd_started{0};
__attribute__((noinline)) void* JoinTheCrowd(void*) {
  g_crowd_started.fetch_add(1);
  pthread_mutex_lock(&g_crowd_mutex);  // @block:crowd
  pthread_mutex_unlock(&g_crowd_mutex);
  return nullptr;
}

TEST(Fault, FiveThousandThreads) {
  constexpr int kThreads = 5000;
  pthread_mutex_lock(&g_crowd_mutex);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (int i = 0; i < kThreads; ++i) {
    pthread_t thread;
    ASSERT_EQ(pthread_create(&thread, &attr, &JoinTheCrowd, nullptr), 0)
        << "thread " << i;
    pthread_detach(thread);
  }
  while (g_crowd_started.load() < kThreads) usleep(1000);
  Say("fault_program: 5000 threads started\n");
  SleepForever();
}

// Threads starting and exiting as fast as they can, from several
// threads at once, all through the report; detached, so nobody waits for
// them and their exits land anywhere in it.
std::atomic<int> g_churn_alive{0};
std::atomic<long> g_churn_born{0};
void StartChurn() {
  for (int c = 0; c < 4; ++c) {
    std::thread([] {
      pthread_setname_np(pthread_self(), "churner");
      for (;;) {
        if (g_churn_alive.load() >= 64) {
          sched_yield();
          continue;
        }
        g_churn_alive.fetch_add(1);
        std::thread([] {
          g_churn_born.fetch_add(1);
          g_churn_alive.fetch_sub(1);
        }).detach();
      }
    }).detach();
  }
  while (g_churn_born.load() < 1000) usleep(1000);
}

TEST(Fault, ChurnThenStall) {
  StartChurn();
  SleepForever();
}

TEST(Fault, ChurnThenCrash) {
  StartChurn();
  WriteThroughBadPointer();
  g_sink.fetch_add(1);
}

// ========================== signals ==========================

// A stall with a second thread; with FAULT_TAKE_SIGNALS or FAULT_STDERR
// set, in a process whose signals or stderr were taken before start-up.
TEST(Fault, StallWithAWorker) {
  StartWorker();
  SleepForever();
}

TEST(Fault, CrashWithAWorker) {
  StartWorker();
  WriteThroughBadPointer();
  g_sink.fetch_add(1);
}

// stderr (a pipe the harness never reads) is filled: every write of the
// report blocks. With FAULT_TAKE_SIGNALS=all the dead-man has no real-time
// signal of its own, only its raw SIGABRT backstop.
TEST(Fault, StderrFullThenStall) {
  gtest_watchdog_test_programs::FillStderr();
  SleepForever();
}

// After start-up the program installs its own handler on every real-time
// signal, the watchdog's included.
TEST(Fault, ReplaceRealTimeHandlersThenStall) {
  StartWorker();
  TakeRealTimeSignals(SIGRTMIN, SIGRTMAX);
  SleepForever();
}

// The thread running the test blocks every signal it can.
TEST(Fault, TestThreadBlocksEverySignal) {
  StartWorker();
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  SleepForever();
}

// ========================== resources ==========================

// Lowers the descriptor limit and opens /dev/null until none is left.
void UseUpFileDescriptors() {
  rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur > 256) limit.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  int opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0) ++opened;
  ASSERT_EQ(errno, EMFILE);
  SayNumber("fault_program: no descriptor left after opening ", opened);
}

TEST(Fault, NoFileDescriptorsLeftThenStall) {
  StartWorker();
  UseUpFileDescriptors();
  SleepForever();
}

TEST(Fault, NoFileDescriptorsLeftThenCrash) {
  StartWorker();
  UseUpFileDescriptors();
  WriteThroughBadPointer();
  g_sink.fetch_add(1);
}

// Lowers the address-space limit a little above what the process uses,
// maps until nothing more fits, then gives back `left_kib` of it (a
// multiple of 4). Nothing else is allocated afterwards.
void* g_filler[8192];
void NearlyExhaustAddressSpace(size_t left_kib) {
  ASSERT_TRUE(LimitAddressSpaceToCurrentPlus(64 << 20));
  // 1 MiB mappings first (g_filler[0..megabytes)), then ever smaller ones.
  int n = 0;
  int megabytes = 0;
  for (size_t size = 1 << 20; size >= 4096; size /= 2) {
    while (n < 8192) {
      void* p =
          mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) break;
      g_filler[n++] = p;
      if (size == (1 << 20)) ++megabytes;
    }
  }
  ASSERT_LT(n, 8192);
  const int whole = static_cast<int>(left_kib / 1024);
  const size_t rest = (left_kib % 1024) * 1024;
  ASSERT_LT(whole + (rest > 0 ? 1 : 0), megabytes + 1);
  for (int i = 0; i < whole; ++i) munmap(g_filler[i], 1 << 20);
  if (rest > 0) {
    munmap(static_cast<char*>(g_filler[whole]) + (1 << 20) - rest, rest);
  }
  SayNumber("fault_program: address space left (KiB): ",
            static_cast<long>(left_kib));
}

TEST(Fault, AddressSpaceNearlyExhaustedThenStall) {
  StartWorker();
  NearlyExhaustAddressSpace(2048);
  SleepForever();
}

// More threads than the report's storage prepared at start-up (1,024): it
// must map more at the stall, and only a little address space is left.
TEST(Fault, ManyThreadsAndAddressSpaceNearlyExhaustedThenStall) {
  constexpr int kThreads = 1100;
  pthread_mutex_lock(&g_crowd_mutex);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (int i = 0; i < kThreads; ++i) {
    pthread_t thread;
    ASSERT_EQ(pthread_create(&thread, &attr, &JoinTheCrowd, nullptr), 0);
    pthread_detach(thread);
  }
  while (g_crowd_started.load() < kThreads) usleep(1000);
  NearlyExhaustAddressSpace(128);
  SleepForever();
}

// ========================== stderr ==========================

TEST(Fault, ClosesStderrThenStall) {
  StartWorker();
  close(2);
  SleepForever();
}

// Started with fd 2 closed (by the harness): the file this test opens gets
// a low number. Nothing but what the test writes may end up in it.
TEST(Fault, OpensAFileThenStall) {
  const char* path = std::getenv("FAULT_FILE");
  ASSERT_NE(path, nullptr);
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const char data[] = "the test's own data\n";
  ASSERT_EQ(write(fd, data, sizeof(data) - 1),
            static_cast<ssize_t>(sizeof(data) - 1));
  SayNumber("fault_program: the test's file is on fd ", fd);
  StartWorker();
  SleepForever();
}

// ========================== exit ==========================

TEST(Fault, ExitsMidTest) {
  StartWorker();
  std::exit(7);
}

TEST(Fault, QuickExitsMidTest) {
  StartWorker();
  std::quick_exit(9);
}

// Threads still running when the program returns from main(): one busy,
// one blocked on a mutex, one sleeping, none joined.
TEST(Fault, LeavesDetachedThreadsRunning) {
  static std::mutex never_unlocked;
  never_unlocked.lock();
  std::thread([] {
    for (;;) g_sink.fetch_add(1, std::memory_order_relaxed);
  }).detach();
  std::thread([] {
    std::lock_guard<std::mutex> lock(never_unlocked);
  }).detach();
  std::thread([] { SleepForever(); }).detach();
}

TEST(Fault, LaterTestPasses) { g_sink.fetch_add(1); }

// exit() mid-test, and a static destructor hangs: the test's limit passes
// while static destructors run.
TEST(Fault, ExitsWhileAStaticDestructorHangs) {
  StartWorker();
  g_hang_at_exit.store(true);
  std::exit(0);
}

// The test passes; after main() returned, a static destructor hangs.
TEST(Fault, PassesThenAStaticDestructorHangs) {
  g_hang_at_exit.store(true);
  g_sink.fetch_add(1);
}

// ========================== --gtest_repeat ==========================

TEST(Repeat, Passes) { g_sink.fetch_add(1); }
TEST(Repeat, ExpectFails) { EXPECT_EQ(1, 2) << "fails on purpose"; }
TEST(Repeat, AssertFails) {
  ASSERT_TRUE(false) << "fails on purpose";
  g_sink.fetch_add(1);
}
TEST(Repeat, Throws) { throw std::runtime_error("thrown on purpose"); }
TEST(Repeat, SkipsEveryOtherRun) {
  static int runs = 0;
  if (++runs % 2 == 0) GTEST_SKIP() << "skipped on purpose";
}
// FAULT_STALL_RUN=N: hangs the Nth time it runs.
TEST(Repeat, StallsOnTheNthRun) {
  static int runs = 0;
  const char* nth = std::getenv("FAULT_STALL_RUN");
  ++runs;
  SayNumber("fault_program: Repeat.StallsOnTheNthRun run ", runs);
  if (nth != nullptr && runs == std::atoi(nth)) SleepForever();
}

// ========================== death tests ==========================

TEST(Fault, FastDeathTestChildHangs) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(
      {
        SleepForever();
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
}

TEST(Fault, DeathTestsPassThenTheTestHangs) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(std::exit(3), testing::ExitedWithCode(3), "");
  EXPECT_DEATH(abort(), "");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(3), testing::ExitedWithCode(3), "");
  EXPECT_DEATH(abort(), "");
  GTEST_FLAG_SET(death_test_style, "fast");
  Say("fault_program: death tests passed\n");
  SleepForever();
}

// ========================== fork, vfork ==========================

// How a child ended, on stdout: "exit N" or "signal N".
void SayHowItEnded(const char* what, pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  char line[128];
  if (WIFSIGNALED(status)) {
    snprintf(line, sizeof(line), "fault_program: %s: signal %d\n", what,
             WTERMSIG(status));
  } else {
    snprintf(line, sizeof(line), "fault_program: %s: exit %d\n", what,
             WEXITSTATUS(status));
  }
  Say(line);
}

// Forked children of a watched test end exactly as they would without the
// watchdog: by exit(), _exit(), a crash or abort(); none is reported.
TEST(Fault, ForkedChildrenEndAsTheyWould) {
  StartWorker();
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) std::exit(3);
  SayHowItEnded("exit(3)", pid);
  pid = fork();
  if (pid == 0) _exit(4);
  SayHowItEnded("_exit(4)", pid);
  pid = fork();
  if (pid == 0) {
    WriteThroughBadPointer();
    _exit(0);
  }
  SayHowItEnded("crash", pid);
  pid = fork();
  if (pid == 0) abort();
  SayHowItEnded("abort()", pid);
}

// The test waits for a forked child that never ends.
TEST(Fault, ForkedChildHangs) {
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) SleepForever();
  SayNumber("fault_program: child ", pid);
  int status = 0;
  waitpid(pid, &status, 0);  // @block:waitpid
  Say("fault_program: the test woke up\n");
}

// vfork() and exec, as a spawning library does; the children end at once.
TEST(Fault, VforkExecPasses) {
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = vfork();
    if (pid == 0) {
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

// vfork() and exec of a program that never ends; the test waits for it.
TEST(Fault, VforkExecHangs) {
  const pid_t pid = vfork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "303", static_cast<char*>(nullptr));
    _exit(127);
  }
  SayNumber("fault_program: child ", pid);
  int status = 0;
  waitpid(pid, &status, 0);  // @block:vfork_waitpid
  Say("fault_program: the test woke up\n");
}

// ========================== nested ==========================

// Whether the report helper (this program, re-executed with
// --gtest_watchdog_internal_report) runs as a child of some thread of ours:
// then a report is being written.
bool ReportHelperRuns() {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return false;
  bool found = false;
  while (dirent* task = readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    char path[300];
    snprintf(path, sizeof(path), "/proc/self/task/%s/children", task->d_name);
    char children[4096] = {};
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const ssize_t n = read(fd, children, sizeof(children) - 1);
    close(fd);
    for (char* p = children; n > 0 && *p != '\0';) {
      char* end = nullptr;
      const long pid = strtol(p, &end, 10);
      if (end == p) break;
      p = end;
      char cmd_path[64];
      snprintf(cmd_path, sizeof(cmd_path), "/proc/%ld/cmdline", pid);
      char cmdline[512] = {};
      const int cfd = open(cmd_path, O_RDONLY | O_CLOEXEC);
      if (cfd < 0) continue;
      const ssize_t m = read(cfd, cmdline, sizeof(cmdline) - 1);
      close(cfd);
      // NUL-separated arguments: look at each.
      for (ssize_t at = 0; at < m; at += strlen(cmdline + at) + 1) {
        if (strstr(cmdline + at, "--gtest_watchdog_internal_report") !=
            nullptr) {
          found = true;
        }
      }
    }
  }
  closedir(tasks);
  return found;
}

// A thread that waits until the timeout's report is being written, then
// does `what`.
void WhenTheReportRuns(void (*what)()) {
  std::thread([what] {
    pthread_setname_np(pthread_self(), "late_trouble");
    while (!ReportHelperRuns()) usleep(1000);
    what();
  }).detach();
}

TEST(Fault, CrashWhileTheTimeoutIsReported) {
  WhenTheReportRuns([] {
    Say("fault_program: crashing during the report\n");
    WriteThroughBadPointer();
  });
  SleepForever();
}

TEST(Fault, SigquitWhileTheTimeoutIsReported) {
  WhenTheReportRuns([] {
    Say("fault_program: SIGQUIT during the report\n");
    kill(getpid(), SIGQUIT);
  });
  SleepForever();
}

TEST(Fault, ExitWhileTheTimeoutIsReported) {
  WhenTheReportRuns([] {
    Say("fault_program: exit() during the report\n");
    std::exit(0);
  });
  SleepForever();
}

// With FAULT_STDERR=held and a limit of 1 s: SIGQUIT at once, its report
// then held back on a full stderr pipe for 2.5 s, so the test's limit
// passes while the signal's report is being written.
TEST(Fault, DeadlinePassesWhileASignalIsReported) {
  ASSERT_GE(g_held_write_end, 0) << "needs FAULT_STDERR=held";
  g_hold_until_ns.store(NowNs() + int64_t{2500} * 1000000);
  // Wake the drain if it waits in read(), and wait until it holds back.
  ASSERT_EQ(write(g_held_write_end, "", 1), 1);
  while (!g_holding.load()) usleep(1000);
  // Fill the pipe until a write would block: from now on a report written
  // to stderr waits for the drain.
  const int flags = fcntl(g_held_write_end, F_GETFL);
  fcntl(g_held_write_end, F_SETFL, flags | O_NONBLOCK);
  static char zeros[4096];
  while (write(g_held_write_end, zeros, sizeof(zeros)) > 0) {
  }
  fcntl(g_held_write_end, F_SETFL, flags);
  const pid_t test_tid = Tid();
  std::thread([test_tid] {
    WaitUntilIn(test_tid, "34");
    Say("fault_program: SIGQUIT with stderr held back\n");
    syscall(SYS_tgkill, getpid(), test_tid, SIGQUIT);
  }).detach();
  SleepForever();
}

}  // namespace
