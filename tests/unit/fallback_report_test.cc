// Tests for the stall path's own verdict line when the report helper failed
// (gtest_watchdog/stall/fallback_report.h): what the kernel told the stall
// path about the thread running the test, and the crash.

#include "gtest_watchdog/stall/fallback_report.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/base/text_escape.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kNotDecided[] =
    "[ VERDICT  ] not decided: the report helper failed (no symbols, lock "
    "owners or decoded calls); ";

// A thread as the census reads it: sleeping, in no measured CPU use yet.
KernelThreadInfo Kernel(pid_t tid, const char* name, char state, long nr) {
  KernelThreadInfo k;
  k.tid = tid;
  strncpy(k.name, name, sizeof(k.name) - 1);
  k.state = state;
  k.syscall_nr = nr;
  return k;
}

// Over a 100 ms window: `cpu_ms` on a CPU, `queued_ms` waiting for one.
void Measure(KernelThreadInfo* k, int64_t cpu_ms, int64_t queued_ms,
             int64_t wakeups) {
  k->cpu_ns = cpu_ms * 1000000;
  k->queued_ns = queued_ms * 1000000;
  k->wakeups = wakeups;
  k->interval_ns = 100000000;
}

class FallbackVerdictTest : public ::testing::Test {
 protected:
  FallbackVerdictTest() {
    header_.kind = "timeout";
    header_.phase_id = "test";
    header_.phase_description = "test";
    header_.test_name = "Foo.Bar";
    header_.suite_name = "Foo";
    header_.limit_origin = "--gtest_watchdog_timeout";
    header_.limit_ns = 1000000000;
    header_.elapsed_ns = 1000000000;
    header_.pid = 100;
    header_.test_tid = 100;
    header_.watchdog_tid = 102;
    kernel_.push_back(Kernel(100, "unit_tests", 'S', SYS_futex));
    kernel_.push_back(Kernel(101, "worker", 'S', SYS_nanosleep));
    kernel_.push_back(Kernel(102, "gtest_watchdog", 'R', kSyscallRunning));
  }
  ~FallbackVerdictTest() override {
    for (int fd : fds_) close(fd);
  }

  KernelThreadInfo& Test() { return kernel_[0]; }

  std::string Verdict() {
    std::vector<SnapshotThreadIn> in;
    for (size_t i = 0; i < kernel_.size(); ++i) {
      in.push_back(SnapshotThreadIn{&kernel_[i], &stacks_[i], StackStatus::kOk,
                                    nullptr});
    }
    RawWriter w(-1);
    WriteFallbackVerdict(w, header_, in.data(), static_cast<int>(in.size()));
    return std::string(w.data(), w.size());
  }

  // A pipe; returns its read end and "pipe:[INODE]".
  int Pipe(std::string* link) {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    fds_.push_back(p[0]);
    fds_.push_back(p[1]);
    struct stat st;
    EXPECT_EQ(fstat(p[0], &st), 0);
    *link = "pipe:[" + std::to_string(st.st_ino) + "]";
    return p[0];
  }

  SnapshotHeader header_;
  std::vector<KernelThreadInfo> kernel_;
  ThreadStack stacks_[3];  // one per thread above
  std::vector<int> fds_;
};

// The test thread reads a pipe: its call by name, the descriptor as
// /proc/self/fd shows it, and the CPU window's figures.
TEST_F(FallbackVerdictTest, PipeReadIsNamedWithTheDescriptor) {
  std::string link;
  const int fd = Pipe(&link);
  Test().syscall_nr = SYS_read;
  Test().syscall_args[0] = static_cast<uint64_t>(fd);
  Measure(&Test(), 0, 0, 1);
  EXPECT_EQ(Verdict(), std::string(kNotDecided) +
                           "thread 100 \"unit_tests\", which runs the test, "
                           "is sleeping in read() on fd " +
                           std::to_string(fd) + " (" + link +
                           "); over 100 ms it used 0% of a CPU and woke up 1 "
                           "time\n");
}

TEST_F(FallbackVerdictTest, ClosedDescriptorIsSaid) {
  std::string link;
  const int fd = Pipe(&link);
  Test().syscall_nr = SYS_read;
  Test().syscall_args[0] = static_cast<uint64_t>(fd);
  close(fd);
  fds_.erase(fds_.begin());
  EXPECT_THAT(Verdict(), HasSubstr("in read() on fd " + std::to_string(fd) +
                                   " (no longer open)\n"));
}

// Runnable for at least half the window (the helper's busy rule): running,
// not waiting, with the shares.
TEST_F(FallbackVerdictTest, BusyThreadIsRunningNotWaiting) {
  Test().state = 'R';
  Test().syscall_nr = kSyscallRunning;
  Measure(&Test(), 99, 0, 3);
  EXPECT_EQ(Verdict(), std::string(kNotDecided) +
                           "thread 100 \"unit_tests\", which runs the test, "
                           "is running, not waiting (99% of a CPU over 100 "
                           "ms)\n");
}

TEST_F(FallbackVerdictTest, BusyOnALoadedMachineSaysTheWaitForACpu) {
  Test().state = 'R';
  Test().syscall_nr = kSyscallRunning;
  Measure(&Test(), 40, 50, 30);
  EXPECT_THAT(Verdict(), EndsWith("is running, not waiting (40% of a CPU over "
                                  "100 ms, and 50% waiting for one)\n"));
}

// A lock, a condition variable and a join all wait in futex(): without the
// helper only the address is known.
TEST_F(FallbackVerdictTest, FutexWaitGivesTheAddressOnly) {
  Test().syscall_args[0] = 0xabc0;
  Measure(&Test(), 0, 0, 0);
  EXPECT_THAT(Verdict(),
              EndsWith("is sleeping in futex() on 0xabc0; over 100 ms it "
                       "used 0% of a CPU and woke up 0 times\n"));
}

TEST_F(FallbackVerdictTest, WaitForAChild) {
  Test().syscall_nr = SYS_wait4;
  Test().syscall_args[0] = 4242;
  EXPECT_THAT(Verdict(), EndsWith("is sleeping in wait4() for child pid "
                                  "4242\n"));
  Test().syscall_args[0] = static_cast<uint64_t>(-1);
  EXPECT_THAT(Verdict(), EndsWith("is sleeping in wait4() for any child\n"));
}

// Not measured (no CPU window): no figures, nothing guessed.
TEST_F(FallbackVerdictTest, UnlistedCallByNumberAndNoWindow) {
  Test().syscall_nr = 9999;
  EXPECT_THAT(Verdict(), EndsWith("which runs the test, is sleeping in system "
                                  "call 9999\n"));
}

TEST_F(FallbackVerdictTest, OutsideATestTheMainThread) {
  header_.test_tid = 0;
  EXPECT_THAT(Verdict(), HasSubstr("thread 100 \"unit_tests\", the main "
                                   "thread, is sleeping in futex()"));
  header_.pid = 555;
  EXPECT_EQ(Verdict(), std::string("[ VERDICT  ] not decided: the report "
                                   "helper failed (no symbols, lock owners "
                                   "or decoded calls); the thread running "
                                   "the test was not found\n"));
}

// In a signal report the test thread sits in our handler: what it was
// doing is the call the handler recovered; its CPU use says nothing.
TEST_F(FallbackVerdictTest, SignalledThreadSaysWhatItWasDoing) {
  header_.kind = "signal";
  header_.signal.signo = SIGQUIT;
  header_.signal.tid = 100;
  Measure(&Test(), 0, 0, 0);
  std::string link;
  const int fd = Pipe(&link);
  Test().syscall_nr = SYS_read;
  Test().syscall_args[0] = static_cast<uint64_t>(fd);
  EXPECT_THAT(Verdict(), EndsWith("which runs the test, was in read() on fd " +
                                  std::to_string(fd) + " (" + link +
                                  ") when SIGQUIT came\n"));
  Test().syscall_nr = kSyscallRunning;
  EXPECT_THAT(Verdict(), EndsWith("was running (not in a system call) when "
                                  "SIGQUIT came\n"));
  Test().syscall_nr = kSyscallUnknown;
  EXPECT_THAT(Verdict(), EndsWith("was interrupted by SIGQUIT in a call that "
                                  "does not resume (a sleep, poll or timed "
                                  "wait), or in one not known\n"));
}

__attribute__((noinline)) void Marker() { asm volatile(""); }

// A crash is its own verdict: the thread, the signal and where, as the
// module and the address addr2line wants.
TEST_F(FallbackVerdictTest, CrashNamesTheThreadSignalAndAddress) {
  header_.kind = "crash";
  header_.signal.signo = SIGSEGV;
  header_.signal.code = SEGV_MAPERR;
  header_.signal.tid = 101;
  stacks_[1].depth = 1;
  stacks_[1].pcs[0] = reinterpret_cast<uint64_t>(&Marker);
  // The executable's path, as Prepare() would have kept it.
  char saved[sizeof(g_stall.exe)];
  memcpy(saved, g_stall.exe, sizeof(saved));
  const ssize_t n =
      readlink("/proc/self/exe", g_stall.exe, sizeof(g_stall.exe) - 1);
  ASSERT_GT(n, 0);
  g_stall.exe[n] = '\0';
  const std::string verdict = Verdict();
  memcpy(g_stall.exe, saved, sizeof(saved));
  EXPECT_THAT(verdict, StartsWith("[ VERDICT  ] crash: thread 101 \"worker\" "
                                  "got SIGSEGV at 0x"));
  EXPECT_THAT(verdict, HasSubstr("gtest_watchdog_unit_tests 0x"));
  EXPECT_THAT(verdict, EndsWith(") (not symbolized: the report helper "
                                "failed)\n"));
  // Without a stack: the thread and the signal.
  stacks_[1].depth = 0;
  EXPECT_EQ(Verdict(),
            "[ VERDICT  ] crash: thread 101 \"worker\" got SIGSEGV "
            "(not symbolized: the report helper failed)\n");
}

// Names and paths come from the program: escaped, the verdict stays one
// line and forges none.
TEST_F(FallbackVerdictTest, NamesAndPathsAreEscaped) {
  char dir[] = "/tmp/fallback_verdict.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path =
      std::string(dir) + "/q\r\n[ VERDICT  ] forged\x1b[2K";
  const int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  fds_.push_back(fd);
  strncpy(Test().name, "\x1b[31mX\r\n", sizeof(Test().name) - 1);
  Test().syscall_nr = SYS_read;
  Test().syscall_args[0] = static_cast<uint64_t>(fd);
  const std::string verdict = Verdict();
  unlink(path.c_str());
  rmdir(dir);
  EXPECT_THAT(verdict, HasSubstr("thread 100 \"\\x1b[31mX\\r\\n\""));
  EXPECT_THAT(verdict, HasSubstr("/q\\r\\n[ VERDICT  ] forged\\x1b[2K)"));
  EXPECT_EQ(verdict.find('\n'), verdict.size() - 1);
  EXPECT_EQ(verdict.find('\x1b'), std::string::npos);
}

// WriteFallback keeps its headline and verdict for GoogleTest's output.
TEST_F(FallbackVerdictTest, FallbackKeepsHeadlineAndVerdictForTheMessage) {
  const int saved = g_stall.stderr_fd;
  g_stall.stderr_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(g_stall.stderr_fd, 0);
  std::vector<SnapshotThreadIn> in;
  for (size_t i = 0; i < kernel_.size(); ++i) {
    in.push_back(
        SnapshotThreadIn{&kernel_[i], &stacks_[i], StackStatus::kOk, nullptr});
  }
  WriteFallback(header_, in.data(), static_cast<int>(in.size()));
  close(g_stall.stderr_fd);
  g_stall.stderr_fd = saved;
  size_t size = 0;
  const char* message = FallbackFailureMessage(&size);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(std::string(message, size),
            std::string("[ TIMEOUT  ] Foo.Bar: test still running after 1.00 "
                        "s (limit 1.00 s, from --gtest_watchdog_timeout)\n") +
                kNotDecided +
                "thread 100 \"unit_tests\", which runs the test, is sleeping "
                "in futex() on 0x0\n");
}

}  // namespace
}  // namespace gtest_watchdog_internal
