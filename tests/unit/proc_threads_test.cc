// Tests for the /proc/self/task readers and parsers
// (gtest_watchdog/dump/proc_threads.h).

#include "gtest_watchdog/dump/proc_threads.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gtest_watchdog_internal {
namespace {

using ::testing::Contains;

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

char StateOf(const char* stat) { return ParseStatState(stat, strlen(stat)); }

TEST(ParseStatStateTest, PlainComm) {
  EXPECT_EQ(StateOf("42 (cat) S 1 42 42 0 -1"), 'S');
  EXPECT_EQ(StateOf("42 (cat) R 1 42"), 'R');
  EXPECT_EQ(StateOf("42 (cat) D 1 42"), 'D');
}

TEST(ParseStatStateTest, CommWithParenthesesAndSpaces) {
  EXPECT_EQ(StateOf("123 (a) S (b) R 1 2"), 'R');
  EXPECT_EQ(StateOf("7 (x) Z) T 1 2"), 'T');
  EXPECT_EQ(StateOf("7 ()) D 0"), 'D');
  EXPECT_EQ(StateOf("7 (my thread) t 0"), 't');
}

TEST(ParseStatStateTest, HonoursLength) {
  const char stat[] = "123 (a) S (b) R 1 2";
  // Only "123 (a) S 1" is visible: the later ')' must not be seen.
  EXPECT_EQ(ParseStatState(stat, 11), 'S');
}

TEST(ParseStatStateTest, MalformedGivesQuestionMark) {
  EXPECT_EQ(StateOf(""), '?');
  EXPECT_EQ(StateOf("123 (abc"), '?');
  EXPECT_EQ(StateOf("123 (abc)"), '?');
  EXPECT_EQ(StateOf("123 (abc) "), '?');
}

KernelThreadInfo ParseSyscall(const char* text) {
  KernelThreadInfo info;
  ParseSyscallLine(text, strlen(text), &info);
  return info;
}

TEST(ParseSyscallLineTest, Running) {
  const KernelThreadInfo info = ParseSyscall("running\n");
  EXPECT_EQ(info.syscall_nr, kSyscallRunning);
  EXPECT_EQ(info.sp, 0u);
  EXPECT_EQ(info.pc, 0u);
}

TEST(ParseSyscallLineTest, NotInSyscallHasSpAndPcOnly) {
  const KernelThreadInfo info = ParseSyscall("-1 0x7ffd 0x7f12\n");
  EXPECT_EQ(info.syscall_nr, -1);
  EXPECT_EQ(info.sp, 0x7ffdu);
  EXPECT_EQ(info.pc, 0x7f12u);
  for (uint64_t a : info.syscall_args) EXPECT_EQ(a, 0u);
}

TEST(ParseSyscallLineTest, InSyscallHasNumberArgsSpAndPc) {
  const KernelThreadInfo info = ParseSyscall(
      "202 0x55d0c0a0e0a0 0x80 0x2 0x0 0x0 0x0 0x7ffd00 0x7f0011\n");
  EXPECT_EQ(info.syscall_nr, 202);
  EXPECT_EQ(info.syscall_args[0], 0x55d0c0a0e0a0u);
  EXPECT_EQ(info.syscall_args[1], 0x80u);
  EXPECT_EQ(info.syscall_args[2], 0x2u);
  EXPECT_EQ(info.syscall_args[3], 0u);
  EXPECT_EQ(info.syscall_args[4], 0u);
  EXPECT_EQ(info.syscall_args[5], 0u);
  EXPECT_EQ(info.sp, 0x7ffd00u);
  EXPECT_EQ(info.pc, 0x7f0011u);
}

TEST(ParseSyscallLineTest, FullWidthAndUpperCaseHex) {
  const KernelThreadInfo info = ParseSyscall(
      "0 0x3 0x7FFDDEADBEEF 0x400 0xffffffffffffffff 0x0 0x0 0x7ffc0 0xAbC\n");
  EXPECT_EQ(info.syscall_nr, 0);
  EXPECT_EQ(info.syscall_args[0], 3u);
  EXPECT_EQ(info.syscall_args[1], 0x7ffddeadbeefu);
  EXPECT_EQ(info.syscall_args[2], 0x400u);
  EXPECT_EQ(info.syscall_args[3], 0xffffffffffffffffu);
  EXPECT_EQ(info.sp, 0x7ffc0u);
  EXPECT_EQ(info.pc, 0xabcu);
}

TEST(ParseSyscallLineTest, HonoursLength) {
  const char text[] = "35 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8 999";
  KernelThreadInfo info;
  ParseSyscallLine(text, strlen(text) - 4, &info);  // without " 999"
  EXPECT_EQ(info.syscall_nr, 35);
  EXPECT_EQ(info.syscall_args[5], 6u);
  EXPECT_EQ(info.pc, 8u);
}

TEST(ParseSyscallLineTest, GarbageOrEmptyLeavesDefaults) {
  KernelThreadInfo info = ParseSyscall("");
  EXPECT_EQ(info.syscall_nr, kSyscallUnknown);
  info = ParseSyscall("garbage");
  EXPECT_EQ(info.syscall_nr, kSyscallUnknown);
  EXPECT_EQ(info.pc, 0u);
}

TEST(ParseSyscallLineTest, TruncatedLineKeepsWhatWasThere) {
  const KernelThreadInfo info = ParseSyscall("202 0x10 0x80");
  EXPECT_EQ(info.syscall_nr, 202);
  EXPECT_EQ(info.syscall_args[0], 0x10u);
  EXPECT_EQ(info.syscall_args[1], 0x80u);
  EXPECT_EQ(info.sp, 0u);
  EXPECT_EQ(info.pc, 0u);
}

constexpr char kStatus[] =
    "Name:\tgtest_watchdog\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "Ngid:\t0\n"
    "Pid:\t4243\n"
    "PPid:\t1\n"
    "TracerPid:\t0\n"
    "Uid:\t1000\t1000\t1000\t1000\n"
    "Gid:\t1000\t1000\t1000\t1000\n"
    "FDSize:\t64\n"
    "Groups:\t4 24 27 \n"
    "NSpid:\t4243\n"
    "VmPeak:\t  123456 kB\n"
    "Threads:\t3\n"
    "SigQ:\t0/63412\n"
    "SigPnd:\t0000000000000004\n"
    "ShdPnd:\t0000000000000008\n"
    "SigBlk:\t0000000000010000\n"
    "SigIgn:\t0000000000001000\n"
    "SigCgt:\t0000000180000000\n"
    "CapInh:\t0000000000000000\n"
    "Seccomp:\t0\n"
    "voluntary_ctxt_switches:\t150\n"
    "nonvoluntary_ctxt_switches:\t2\n";

TEST(ParseSigBlkTest, FindsBlockedMaskInRealisticStatus) {
  const uint64_t mask = ParseSigBlk(kStatus, strlen(kStatus));
  EXPECT_EQ(mask, 0x10000u);
  // Bit n-1 stands for signal n: 0x10000 is signal 17 (SIGCHLD on x86-64).
  EXPECT_EQ(mask, uint64_t{1} << (17 - 1));
}

TEST(ParseSigBlkTest, AllBitsAndUpperCase) {
  const char status[] = "SigPnd:\t0\nSigBlk:\tFFFFFFFE7FFBFEFF\nSigIgn:\t0\n";
  EXPECT_EQ(ParseSigBlk(status, strlen(status)), 0xfffffffe7ffbfeffu);
}

TEST(ParseSigBlkTest, KeyMustStartALine) {
  const char status[] =
      "XSigBlk:\t00000000000000ff\nSigBlk:\t0000000000000002\n";
  EXPECT_EQ(ParseSigBlk(status, strlen(status)), 2u);
}

TEST(ParseSigBlkTest, MissingOrCutKeyGivesZero) {
  const char no_key[] = "Name:\tx\nSigIgn:\t00000000000000ff\n";
  EXPECT_EQ(ParseSigBlk(no_key, strlen(no_key)), 0u);
  const char cut[] = "Name:\tx\nSigBl";
  EXPECT_EQ(ParseSigBlk(cut, strlen(cut)), 0u);
  EXPECT_EQ(ParseSigBlk("", 0), 0u);
}

TEST(ParseSigBlkTest, HonoursLength) {
  const char status[] = "SigBlk:\t00000000000000ff";
  // Only "SigBlk:\t000000000000000" (15 zeros) is visible.
  EXPECT_EQ(ParseSigBlk(status, strlen(status) - 2), 0u);
}

TEST(ReadProcFileTest, ReadsAndTerminates) {
  char buf[256];
  memset(buf, 'z', sizeof(buf));
  const ssize_t n = ReadProcFile("/proc/self/stat", buf, sizeof(buf));
  ASSERT_GT(n, 0);
  ASSERT_LT(n, static_cast<ssize_t>(sizeof(buf)));
  EXPECT_EQ(buf[n], '\0');
  EXPECT_EQ(strlen(buf), static_cast<size_t>(n));
}

TEST(ReadProcFileTest, TruncatesToCapacity) {
  char buf[8];
  const ssize_t n = ReadProcFile("/proc/self/status", buf, sizeof(buf));
  EXPECT_EQ(n, 7);
  EXPECT_EQ(buf[7], '\0');
  EXPECT_EQ(std::string(buf, 6), "Name:\t");
}

TEST(ReadProcFileTest, MissingFileIsMinusOne) {
  char buf[16];
  EXPECT_EQ(ReadProcFile("/proc/self/task/0/does_not_exist", buf, sizeof(buf)),
            -1);
}

// A thread that names itself, optionally blocks every signal, then waits on a
// condition variable (a futex: state S) until told to finish.
class ParkedThread {
 public:
  ParkedThread(const char* name, bool block_all_signals) {
    thread_ = std::thread([this, name, block_all_signals] {
      pthread_setname_np(pthread_self(), name);
      sigset_t mask;
      if (block_all_signals) {
        sigfillset(&mask);
        pthread_sigmask(SIG_BLOCK, &mask, nullptr);
      }
      pthread_sigmask(SIG_SETMASK, nullptr, &mask);  // what really took
      uint64_t bits = 0;
      for (int sig = 1; sig <= 64; ++sig) {
        if (sigismember(&mask, sig) == 1) bits |= uint64_t{1} << (sig - 1);
      }
      std::unique_lock<std::mutex> lock(mu_);
      tid_ = GetTid();
      mask_bits_ = bits;
      cv_.notify_all();
      cv_.wait(lock, [this] { return done_; });
    });
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return tid_ != 0; });
  }
  ~ParkedThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  pid_t tid() const { return tid_; }
  uint64_t mask_bits() const { return mask_bits_; }

  // Polls until the kernel reports the thread asleep; false on timeout.
  bool WaitUntilSleeping(KernelThreadInfo* info) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      *info = KernelThreadInfo();
      ReadKernelThreadInfo(tid_, info);
      if (info->state == 'S') return true;
      std::this_thread::yield();
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  pid_t tid_ = 0;  // guarded by mu_ until the constructor returns
  uint64_t mask_bits_ = 0;
  bool done_ = false;
  std::thread thread_;
};

TEST(ListThreadIdsTest, FindsCurrentThread) {
  pid_t tids[1024];
  const int n = ListThreadIds(tids, 1024);
  ASSERT_GT(n, 0);
  ASSERT_LE(n, 1024);
  EXPECT_THAT(std::vector<pid_t>(tids, tids + n), Contains(GetTid()));
  EXPECT_THAT(std::vector<pid_t>(tids, tids + n), Contains(getpid()));
}

TEST(ListThreadIdsTest, FindsAStartedThread) {
  pid_t tids[1024];
  ParkedThread parked("wd-list", false);
  const int n = ListThreadIds(tids, 1024);
  ASSERT_GE(n, 2);
  ASSERT_LE(n, 1024);
  EXPECT_THAT(std::vector<pid_t>(tids, tids + n), Contains(parked.tid()));
  EXPECT_THAT(std::vector<pid_t>(tids, tids + n), Contains(GetTid()));
}

TEST(ListThreadIdsTest, SmallCapacityReturnsTrueCount) {
  ParkedThread a("wd-cap-a", false);
  ParkedThread b("wd-cap-b", false);
  // A thread of an earlier test may still be leaving /proc; retry until two
  // full listings agree, so the count under test is stable.
  pid_t all[1024];
  pid_t few[2] = {-7, -7};
  int total = -1;
  int small = -2;
  int none = -3;
  for (int attempt = 0; attempt < 100; ++attempt) {
    total = ListThreadIds(all, 1024);
    few[0] = few[1] = -7;
    small = ListThreadIds(few, 1);
    none = ListThreadIds(nullptr, 0);
    if (ListThreadIds(all, 1024) == total) break;
  }
  ASSERT_GE(total, 3);
  ASSERT_LE(total, 1024);
  EXPECT_EQ(small, total);
  EXPECT_EQ(none, total);
  EXPECT_THAT(std::vector<pid_t>(all, all + total), Contains(few[0]));
  EXPECT_EQ(few[1], -7);  // beyond the capacity: untouched
}

TEST(ReadKernelThreadInfoTest, CurrentThreadIsRunning) {
  KernelThreadInfo info;
  ReadKernelThreadInfo(GetTid(), &info);
  EXPECT_EQ(info.tid, GetTid());
  EXPECT_FALSE(info.gone);
  EXPECT_EQ(info.state, 'R');
  char name[17] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  EXPECT_STREQ(info.name, name);
}

TEST(ReadKernelThreadInfoTest, NamedSleepingThread) {
  ParkedThread parked("wd-sleeper 1", false);
  KernelThreadInfo info;
  ASSERT_TRUE(parked.WaitUntilSleeping(&info))
      << "last state '" << info.state << "'";
  EXPECT_EQ(info.tid, parked.tid());
  EXPECT_FALSE(info.gone);
  EXPECT_STREQ(info.name, "wd-sleeper 1");
  EXPECT_EQ(info.sig_blocked, parked.mask_bits());
#if defined(__x86_64__)
  EXPECT_EQ(info.syscall_nr, 202) << "expected futex";
#endif
  EXPECT_GE(info.syscall_nr, 0);
  EXPECT_NE(info.sp, 0u);
  EXPECT_NE(info.pc, 0u);
  EXPECT_EQ(info.wchan[sizeof(info.wchan) - 1], '\0');
  EXPECT_EQ(std::string(info.wchan).find('\n'), std::string::npos);
}

TEST(ReadKernelThreadInfoTest, ThreadBlockingAllSignals) {
  ParkedThread parked("wd-blocker", true);
  KernelThreadInfo info;
  ASSERT_TRUE(parked.WaitUntilSleeping(&info));
  EXPECT_STREQ(info.name, "wd-blocker");
  // Everything the thread could block; the kernel refuses SIGKILL/SIGSTOP
  // and glibc keeps its two internal signals unblocked.
  EXPECT_EQ(info.sig_blocked, parked.mask_bits());
  EXPECT_NE(info.sig_blocked & (uint64_t{1} << (SIGUSR1 - 1)), 0u);
  EXPECT_NE(info.sig_blocked & (uint64_t{1} << (SIGRTMIN + 3 - 1)), 0u);
  EXPECT_NE(info.sig_blocked & (uint64_t{1} << (SIGRTMAX - 1)), 0u);
  EXPECT_EQ(info.sig_blocked & (uint64_t{1} << (SIGKILL - 1)), 0u);
  EXPECT_EQ(info.sig_blocked & (uint64_t{1} << (SIGSTOP - 1)), 0u);
}

TEST(ReadKernelThreadInfoTest, NonexistentThreadIsGone) {
  KernelThreadInfo info;
  ReadKernelThreadInfo(INT_MAX, &info);
  EXPECT_TRUE(info.gone);
  EXPECT_EQ(info.tid, INT_MAX);
  EXPECT_EQ(info.state, '?');
  EXPECT_EQ(info.syscall_nr, kSyscallUnknown);
}

TEST(CpuSampleTest, ParsesSchedstat) {
  const char text[] = "123456789 5000 42\n";
  int64_t cpu = 0, queued = 0, runs = 0;
  ASSERT_TRUE(ParseSchedstat(text, strlen(text), &cpu, &queued, &runs));
  EXPECT_EQ(cpu, 123456789);
  EXPECT_EQ(queued, 5000);
  EXPECT_EQ(runs, 42);
  EXPECT_FALSE(ParseSchedstat("garbage", 7, &cpu, &queued, &runs));
  EXPECT_FALSE(ParseSchedstat("12 3", 4, &cpu, &queued, &runs));
}

TEST(CpuSampleTest, ParsesStatTicksPastACommWithSpaces) {
  // utime 14 = 250, stime 15 = 7; comm "(a) b" has a space and a ')'.
  const char stat[] =
      "42 ((a) b) R 1 42 42 0 -1 4194304 100 0 0 0 250 7 0 0 20 0 1 0";
  int64_t ticks = 0;
  ASSERT_TRUE(ParseStatCpuTicks(stat, strlen(stat), &ticks));
  EXPECT_EQ(ticks, 257);
  EXPECT_FALSE(ParseStatCpuTicks("42 (x) R 1", 10, &ticks));
}

TEST(CpuSampleTest, UseIsTheDifferenceOfTwoSamples) {
  KernelThreadInfo info;
  SetCpuUse(CpuSample{1000, 50, 10, 3}, CpuSample{251000, 200050, 30, 7},
            &info);
  EXPECT_EQ(info.interval_ns, 250000);
  EXPECT_EQ(info.cpu_ns, 200000);
  EXPECT_EQ(info.queued_ns, 20);
  EXPECT_EQ(info.wakeups, 4);
  // A missing sample leaves "not measured".
  KernelThreadInfo none;
  SetCpuUse(CpuSample{}, CpuSample{251000, 200050, 30, 7}, &none);
  EXPECT_EQ(none.cpu_ns, -1);
  EXPECT_EQ(none.interval_ns, -1);
}

// A thread spinning on a CPU uses most of it; a sleeping one none.
TEST(CpuSampleTest, SpinningAndSleepingThreadsOfThisProcess) {
  std::atomic<pid_t> spinner{0}, sleeper{0};
  std::atomic<bool> stop{false};
  std::thread spin([&] {
    spinner = static_cast<pid_t>(syscall(SYS_gettid));
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  std::mutex m;
  std::unique_lock<std::mutex> held(m);
  std::thread sleep([&] {
    sleeper = static_cast<pid_t>(syscall(SYS_gettid));
    std::lock_guard<std::mutex> wait(m);
  });
  while (spinner == 0 || sleeper == 0) std::this_thread::yield();
  CpuSample a1, a2, b1, b2;
  SampleThreadCpu(spinner, &a1);
  SampleThreadCpu(sleeper, &b1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  SampleThreadCpu(spinner, &a2);
  SampleThreadCpu(sleeper, &b2);
  stop = true;
  held.unlock();
  spin.join();
  sleep.join();
  KernelThreadInfo busy, idle;
  SetCpuUse(a1, a2, &busy);
  SetCpuUse(b1, b2, &idle);
  ASSERT_GT(busy.interval_ns, 0);
  // Runnable (on a CPU or queued for one) most of the time, even on a
  // loaded machine; the sleeper (which may still be getting to its lock)
  // barely runs.
  EXPECT_GT(busy.cpu_ns + std::max<int64_t>(busy.queued_ns, 0),
            busy.interval_ns / 2);
  EXPECT_LT(idle.cpu_ns, idle.interval_ns / 4);
}

}  // namespace
}  // namespace gtest_watchdog_internal
