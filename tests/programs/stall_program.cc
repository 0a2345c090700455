// Tests that stall on purpose, one scenario each; the harness selects one
// with --gtest_filter and asserts on the watchdog's report. Lines marked
// `// @block:NAME` are where a thread blocks: the harness looks them up in
// this file and expects `stall_program.cc:LINE` in the report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "program_helpers.h"

namespace {

using gtest_watchdog_test_programs::LimitAddressSpaceToCurrentPlus;

// Keeps the optimizer from deleting the loops and calls below.
std::atomic<long> g_sink{0};

__attribute__((noinline)) void SpinForever() {
  for (;;) g_sink.fetch_add(1, std::memory_order_relaxed);  // @block:spin
}

__attribute__((noinline)) void SleepForever() {
  for (;;) pause();  // @block:sleep
}

// --- a global environment that hangs, chosen by STALL_ENV ---
class HangingEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    if (Mode() == "setup") SleepForever();
  }
  void TearDown() override {
    if (Mode() == "teardown") SleepForever();
  }

 private:
  static std::string Mode() {
    const char* m = std::getenv("STALL_ENV");
    return m == nullptr ? "" : m;
  }
};
testing::Environment* const g_env =
    testing::AddGlobalTestEnvironment(new HangingEnvironment);

// STALL_BLOCK_ALL=1: block every signal before main(), as some servers do;
// threads started later (the watchdog's) inherit that mask.
const bool g_blocked_all = [] {
  const char* b = std::getenv("STALL_BLOCK_ALL");
  if (b == nullptr || *b != '1') return false;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  return true;
}();

TEST(Stall, SpinInBody) { SpinForever(); }

TEST(Stall, Passes) { SUCCEED(); }

// Healthy but slower than the tiny limits some harness cases set.
TEST(Stall, TakesAWhile) {
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
}

// --- two threads deadlocked on two std::mutex ---
std::mutex g_a;
std::mutex g_b;

__attribute__((noinline)) void LockAThenB(std::atomic<int>* ready) {
  std::lock_guard<std::mutex> a(g_a);
  ready->fetch_add(1);
  while (ready->load() < 2) {
  }
  std::lock_guard<std::mutex> b(g_b);  // @block:lock_a_then_b
}

__attribute__((noinline)) void LockBThenA(std::atomic<int>* ready) {
  std::lock_guard<std::mutex> b(g_b);
  ready->fetch_add(1);
  while (ready->load() < 2) {
  }
  std::lock_guard<std::mutex> a(g_a);  // @block:lock_b_then_a
}

TEST(Stall, Deadlock) {
  std::atomic<int> ready{0};
  std::thread t1(LockAThenB, &ready);
  std::thread t2(LockBThenA, &ready);
  t1.join();  // @block:join
  t2.join();
}

// --- a thread with every signal blocked ---
std::mutex g_never_mutex;
std::condition_variable g_never;

__attribute__((noinline)) void WaitWithSignalsBlocked() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  pthread_setname_np(pthread_self(), "deaf_worker");
  std::unique_lock<std::mutex> lock(g_never_mutex);
  g_never.wait(lock, [] { return false; });
}

TEST(Stall, SignalsBlocked) {
  std::thread deaf(WaitWithSignalsBlocked);
  deaf.join();
}

// --- a thread holding stderr's FILE lock ---
TEST(Stall, StderrLockHeld) {
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    flockfile(stderr);
    locked = true;
    SleepForever();
  });
  while (!locked) {
  }
  SleepForever();
}

// --- a thread holding malloc's main arena lock, the test thread waiting
// for it inside malloc ---
TEST(Stall, MallocLockHeld) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer replaces glibc's malloc";
#endif
  // malloc_stats() prints to `stderr` while holding each arena's lock. Point
  // `stderr` at a pipe nobody reads and fill the pipe: the printing thread
  // then blocks in write(2) with main_arena's lock (and that FILE's lock).
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int flags = fcntl(fds[1], F_GETFL);
  fcntl(fds[1], F_SETFL, flags | O_NONBLOCK);
  char junk[4096];
  memset(junk, 'x', sizeof(junk));
  while (write(fds[1], junk, sizeof(junk)) > 0) {
  }
  fcntl(fds[1], F_SETFL, flags);
  FILE* blocked = fdopen(fds[1], "w");
  ASSERT_NE(blocked, nullptr);
  setvbuf(blocked, nullptr, _IONBF, 0);
  stderr = blocked;
  std::atomic<long> holder_tid{0};
  std::thread holder([&] {
    holder_tid = syscall(SYS_gettid);
    malloc_stats();
  });
  // Wait until the holder is parked in write(2) (system call 1).
  while (holder_tid.load() == 0) {
  }
  const std::string path =
      "/proc/self/task/" + std::to_string(holder_tid.load()) + "/syscall";
  for (;;) {
    char buf[64] = {};
    const int fd = open(path.c_str(), O_RDONLY);
    const ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0) close(fd);
    if (n > 2 && buf[0] == '1' && buf[1] == ' ') break;
    sched_yield();
  }
  void* p = malloc(1 << 20);  // @block:malloc
  g_sink += reinterpret_cast<long>(p);
  holder.join();
}

// --- 1000 threads blocked on one mutex the test thread holds ---
TEST(Stall, ThousandThreads) {
  std::mutex m;
  std::unique_lock<std::mutex> hold(m);
  std::vector<std::thread> threads;
  std::atomic<int> started{0};
  for (int i = 0; i < 1000; ++i) {
    threads.emplace_back([&] {
      started.fetch_add(1);
      std::lock_guard<std::mutex> lock(m);  // @block:thousand
    });
  }
  while (started.load() < 1000) {
  }
  SleepForever();
}

// --- threads starting and exiting all through the dump ---
TEST(Stall, ThreadChurn) {
  std::thread churner([] {
    for (;;) {
      std::thread short_lived([] { g_sink.fetch_add(1); });
      short_lived.join();
    }
  });
  SleepForever();
}

// --- stderr is a pipe nobody reads, already full: every write blocks, so
// the report cannot be written and the dead-man timer must end the process.
TEST(Stall, StderrBlocked) {
  gtest_watchdog_test_programs::FillStderr();
  SleepForever();
}

// --- the executable is deleted while it runs, so the watchdog's report
// helper (this same executable, re-executed) cannot start ---
TEST(Stall, DeletesItself) {
  char self[4096] = {};
  ASSERT_GT(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  ASSERT_EQ(unlink(self), 0);
  SleepForever();
}

// --- no address space left: the report helper cannot start, so the
// stalled process must write the raw report itself ---
TEST(Stall, AddressSpaceExhausted) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers reserve terabytes of address space";
#endif
  ASSERT_TRUE(LimitAddressSpaceToCurrentPlus(64 << 20));
  for (size_t size = 1 << 20; size >= 4096; size /= 2) {
    while (mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
           MAP_FAILED) {
    }
  }
  SleepForever();
}

// --- the test redirects fd 2 (gtest's CaptureStderr) and then hangs: the
// report must still reach the real stderr ---
TEST(Stall, StderrCaptured) {
  testing::internal::CaptureStderr();
  SleepForever();
}

// --- the program resets every real-time signal after start-up ---
TEST(Stall, RealTimeSignalsReset) {
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) signal(sig, SIG_DFL);
  SleepForever();
}

// --- SIGCHLD ignored: children are reaped by the kernel ---
TEST(Stall, ChildSignalIgnored) {
  signal(SIGCHLD, SIG_IGN);
  SleepForever();
}

// --- a thread with a tiny stack, deep in it: a signal handler would
// overflow it ---
// GCC sees that the recursion ends only in a function that never returns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) void DeepThenSleep(int depth) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(depth);
  if (depth > 0) {
    DeepThenSleep(depth - 1);
  } else {
    SleepForever();
  }
  g_sink += pad[0];
}
#pragma GCC diagnostic pop

TEST(Stall, SmallStackThread) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 16384);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void*) -> void* {
                  pthread_setname_np(pthread_self(), "tiny_stack");
                  DeepThenSleep(4);  // ~5 KiB of its 16 KiB
                  return nullptr;
                },
                nullptr),
            0);
  SleepForever();
}

// --- each phase of a test ---
class HangInConstructor : public testing::Test {
 protected:
  // Distinct bodies: identical ones may be folded into one by the linker
  // (-fipa-icf), and the report would then name the other function.
  HangInConstructor() {
    g_sink += 1;
    SleepForever();
  }
};
TEST_F(HangInConstructor, Test) {}

class HangInSetUp : public testing::Test {
 protected:
  void SetUp() override {
    g_sink += 2;
    SleepForever();
  }
};
TEST_F(HangInSetUp, Test) {}

class HangInTearDown : public testing::Test {
 protected:
  void TearDown() override {
    g_sink += 3;
    SleepForever();
  }
};
TEST_F(HangInTearDown, Test) {}

class HangInDestructor : public testing::Test {
 protected:
  ~HangInDestructor() override {
    g_sink += 6;
    SleepForever();
  }
};
TEST_F(HangInDestructor, Test) {}

class HangInSetUpTestSuite : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_sink += 4;
    SleepForever();
  }
};
TEST_F(HangInSetUpTestSuite, Test) {}

class HangInTearDownTestSuite : public testing::Test {
 protected:
  static void TearDownTestSuite() {
    g_sink += 5;
    SleepForever();
  }
};
TEST_F(HangInTearDownTestSuite, Test) {}

}  // namespace
