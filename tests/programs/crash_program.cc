// Tests that crash or wait for a signal on purpose, one scenario each; the
// harness (tests/integration/crash_test.cc) selects one with --gtest_filter
// and asserts on the watchdog's report, on how the process ended and on
// GoogleTest's output file. Lines marked `// @block:NAME` are where the
// signal hits: the harness expects `crash_program.cc:LINE` in the report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
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

#include "absl/debugging/failure_signal_handler.h"
#include "program_helpers.h"

namespace {

using gtest_watchdog_test_programs::WaitUntilIn;

// Keeps the optimizer from removing what the tests do on purpose.
std::atomic<long> g_sink{0};
// Not null: UndefinedBehaviorSanitizer would catch a null store before it
// faults. Address 16 is never mapped either (mmap_min_addr).
int* volatile g_bad = reinterpret_cast<int*>(16);
volatile int g_zero = 0;

void Say(const char* text) {
  if (write(2, text, strlen(text)) < 0) g_sink.fetch_add(1);
}

// CRASH_PROGRAM_USER_HANDLER=1: the program has its own SIGSEGV handler,
// installed before main() (so before gtest_watchdog's): it must still run.
// It says so, puts the default action back and returns, so the fault
// happens again and ends the process, as many such handlers do.
void UserHandler(int sig) {
  Say("user handler ran for signal ");
  const char digits[3] = {static_cast<char>('0' + sig / 10),
                          static_cast<char>('0' + sig % 10), '\n'};
  if (write(2, digits, sizeof(digits)) < 0) g_sink.fetch_add(1);
  signal(sig, SIG_DFL);
}
const bool g_user_handler = [] {
  const char* want = std::getenv("CRASH_PROGRAM_USER_HANDLER");
  if (want == nullptr || std::strcmp(want, "1") != 0) return false;
  signal(SIGSEGV, &UserHandler);
  return true;
}();

// CRASH_PROGRAM_ABSL_HANDLER=1: Abseil's failure signal handler, installed
// before main() like the user handler above. It prints its own dump, then
// raises the signal again with the handler it replaced (the default).
const bool g_absl_handler = [] {
  const char* want = std::getenv("CRASH_PROGRAM_ABSL_HANDLER");
  if (want == nullptr || std::strcmp(want, "1") != 0) return false;
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  return true;
}();

// A thread that waits for ever, so every report has a second thread to show.
__attribute__((noinline)) void WaitInBackground(std::mutex* mu,
                                                std::condition_variable* cv,
                                                bool* started) {
  std::unique_lock<std::mutex> lock(*mu);
  *started = true;
  cv->notify_all();
  cv->wait(lock, [] { return false; });  // @block:background_wait
}

class WithBackgroundThread : public testing::Test {
 protected:
  void SetUp() override {
    std::thread t([this] {
      pthread_setname_np(pthread_self(), "bg_waiter");
      WaitInBackground(&mu_, &cv_, &started_);
    });
    t.detach();  // the process ends by the signal with it still waiting
    // Once we hold the mutex again, the thread is inside cv.wait().
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return started_; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
};

__attribute__((noinline)) void WriteThroughNull() {
  *g_bad = 42;  // @block:null_write
}

// Ends only when the stack does (the compiler cannot know g_sink stays
// below the limit, so it sees no infinite recursion).
__attribute__((noinline)) int Recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  if (g_sink.load() == -1) return 0;
  // Not a tail call: the result is used after the call returns.
  return Recurse(depth + 1) + frame[0];  // @block:recurse
}

// The division in assembly: UndefinedBehaviorSanitizer would report a C++
// division by zero before the CPU faults.
__attribute__((noinline)) int Divide(int a) {
  const int divisor = g_zero;
  int quotient;
  asm volatile("cltd\n\tidivl %2"  // @block:divide
               : "=a"(quotient)
               : "a"(a), "r"(divisor)
               : "edx");
  return quotient;
}

// A smashed frame pointer, then a fault, in a function whose call frame
// information says "the frame is at the frame pointer" (as in any -O0 or
// frame-pointer build): the unwinder follows the smashed pointer and faults
// too, inside the watchdog's handler. In assembly, so the compiler cannot
// lay the frame out differently.
extern "C" void crash_program_smashed_frame();
asm(R"(
  .text
  .type crash_program_smashed_frame, @function
crash_program_smashed_frame:
  .cfi_startproc
  pushq %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
  movq %rsp, %rbp
  .cfi_def_cfa_register %rbp
  movq $16, %rbp
  movl $42, (%rbp)
  popq %rbp
  .cfi_def_cfa %rsp, 8
  ret
  .cfi_endproc
  .size crash_program_smashed_frame, .-crash_program_smashed_frame
)");

// A read past the end of a mapped empty file: SIGBUS.
__attribute__((noinline)) int ReadPastTheFile() {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "empty", 0));
  void* page = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
  if (page == MAP_FAILED) return -1;
  return *static_cast<volatile int*>(page);  // @block:bus
}

// An undefined instruction (ud2): SIGILL.
__attribute__((noinline)) void IllegalInstruction() {
  __builtin_trap();  // @block:ill
}

__attribute__((noinline)) void AbortHere() {
  std::abort();  // @block:abort
}

// A thread that crashes; once its crash is being reported, it sleeps in the
// watchdog's handler (a futex), which WaitUntil(tid, "202") sees.
std::atomic<pid_t> g_crasher_tid{0};
void StartCrasher(const char* name) {
  std::thread([name] {
    pthread_setname_np(pthread_self(), name);
    g_crasher_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
    WriteThroughNull();
  }).detach();
  while (g_crasher_tid.load() == 0) usleep(1000);
}

// CRASH_PROGRAM_CRASH_AT_EXIT=1: a global's destructor, which runs after
// main() returned, lets a thread crash and returns once that crash is being
// reported: the program must not finish exiting (status 0) meanwhile.
struct CrashAtExit {
  ~CrashAtExit() {
    const char* want = std::getenv("CRASH_PROGRAM_CRASH_AT_EXIT");
    if (want == nullptr || std::strcmp(want, "1") != 0) return;
    StartCrasher("exit_crasher");
    WaitUntilIn(g_crasher_tid.load(), "202");
  }
} g_crash_at_exit;

// Says "waiting for a signal" once the thread that calls it is inside
// pause(): a signal sent on that word finds it there, not on its way.
void AnnounceWhenPaused(pid_t tid) {
  std::thread([tid] {
    WaitUntilIn(tid, "34");  // pause()
    Say("crash_program: waiting for a signal\n");
  }).detach();
}

__attribute__((noinline)) void SleepUntilSignalled() {
  AnnounceWhenPaused(static_cast<pid_t>(syscall(SYS_gettid)));
  for (;;) pause();  // @block:sleep
}

// Each body does something after the call, so the call is not a tail call
// and the body keeps its own frame (the report says "test body").
TEST_F(WithBackgroundThread, NullWrite) {
  WriteThroughNull();
  g_sink.fetch_add(1);
}

TEST_F(WithBackgroundThread, StackOverflow) { g_sink.fetch_add(Recurse(0)); }

TEST_F(WithBackgroundThread, DivideByZero) { g_sink.fetch_add(Divide(7)); }

TEST_F(WithBackgroundThread, BusError) { g_sink.fetch_add(ReadPastTheFile()); }

TEST_F(WithBackgroundThread, IllegalInstruction) {
  IllegalInstruction();
  g_sink.fetch_add(1);
}

TEST_F(WithBackgroundThread, Abort) {
  AbortHere();
  g_sink.fetch_add(1);
}

TEST_F(WithBackgroundThread, Sleep) {
  SleepUntilSignalled();
  g_sink.fetch_add(1);
}

// The crash happens on another thread while the test thread waits for it
// (once it really waits: inside pthread_create it still blocks signals).
TEST(Crash, InAnotherThread) {
  const pid_t test_tid = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread crasher([test_tid] {
    pthread_setname_np(pthread_self(), "crasher");
    WaitUntilIn(test_tid, "202");  // in join()
    WriteThroughNull();
  });
  crasher.join();
}

// The crash happens on another thread while the test thread runs on to the
// end of the program: once that crash is being reported (the crasher sleeps
// in the watchdog's handler), the report must still come out and the
// process still end by the signal, not exit 0 behind the report's back.
// (Before the claim, exiting first is a race the program itself has.)
TEST(Crash, WhileTheTestThreadFinishes) {
  StartCrasher("late_crasher");
  WaitUntilIn(g_crasher_tid.load(), "202");
}

TEST(Crash, SmashedFramePointer) {
  crash_program_smashed_frame();
  g_sink.fetch_add(1);
}

// Another thread's abort() while a crash is being reported waits for that
// report (which ends the process by the first signal), instead of cutting
// it short.
TEST(Crash, AbortWhileACrashIsReported) {
  StartCrasher("crasher");
  WaitUntilIn(g_crasher_tid.load(), "202");
  AbortHere();
  g_sink.fetch_add(1);
}

// An expected crash in a death test is the child's business: no report.
TEST(Crash, DeathTestsAreLeftAlone) {
  EXPECT_DEATH(AbortHere(), "");
  EXPECT_DEATH(WriteThroughNull(), "");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(AbortHere(), "");
  GTEST_FLAG_SET(death_test_style, "fast");
  Say("crash_program: death tests done\n");
}

TEST(Crash, Passes) { g_sink.fetch_add(1); }

// stderr is a pipe nobody reads, already full: the report cannot be
// written, and the dead-man timer's own line cannot either. Its backstop
// must still end the process.
TEST(Crash, StderrBlockedThenCrash) {
  gtest_watchdog_test_programs::FillStderr();
  WriteThroughNull();
  g_sink.fetch_add(1);
}

// Runs after a crash only if the watchdog let the program go on.
TEST(Crash, ZzAfterwards) { Say("crash_program: a later test ran\n"); }

}  // namespace
