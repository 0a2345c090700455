// Copyright 2024 The gtest_watchdog Authors.
//
// Unwinds threads of a child process from the outside. The child is this
// test binary re-executed (posix_spawn, caught by an ELF constructor before
// main()), not a fork() of it: a fresh process may start threads under every
// sanitizer, which a fork of a multithreaded ThreadSanitizer process may not.

#include "gtest_watchdog/symbolize/ptrace_unwinder.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gtest_watchdog/symbolize/symbolizer.h"

#if defined(__clang__)
#define PTRACE_TEST_NOINLINE __attribute__((noinline))
#else
#define PTRACE_TEST_NOINLINE __attribute__((noinline, noclone))
#endif

// Keeps a call from becoming a tail jump, so its caller stays on the stack.
#define PTRACE_TEST_NO_TAIL_CALL() asm volatile("" ::: "memory")

extern char** environ;

namespace ptrace_unwinder_test {

constexpr char kChildFlag[] = "--ptrace_unwinder_test_child";
// In the child: fd 3 is read to block (EOF releases), fd 4 gets the tids.
constexpr int kReleaseFd = 3;
constexpr int kReadyFd = 4;

// The functions the unwinder must find. Distinctive names, out of line.
extern "C" PTRACE_TEST_NOINLINE void PtraceTestBlockedInPipeRead() {
  char byte;
  while (read(kReleaseFd, &byte, 1) > 0) {
  }
  PTRACE_TEST_NO_TAIL_CALL();
}

// The vfork child (see below): shares the blocked thread's memory, so it
// makes raw system calls only (no sanitizer interceptors, no libc state),
// and never returns.
__attribute__((no_sanitize("address", "thread"))) void VforkChild() {
  char byte;
  while (syscall(SYS_read, kReleaseFd, &byte, 1) > 0) {
  }
  syscall(SYS_exit, 0);
}

// Leaves the calling thread in uninterruptible sleep (state D) until the
// release pipe closes: a vfork parent waits so for its child. Not vfork()
// (ThreadSanitizer turns it into fork(), which does not wait), and not
// glibc's clone() (whose parent side, right after its syscall instruction,
// has no unwind info): glibc's syscall() does have it. Its child returns on
// the new stack, whose top holds VforkChild's address.
extern "C" PTRACE_TEST_NOINLINE void PtraceTestBlockedInVfork() {
#if defined(__x86_64__)
  static constexpr size_t kStackSize = 64 * 1024;
  char* stack = static_cast<char*>(malloc(kStackSize));
  // `ret` pops the address and leaves the stack as after a call.
  auto* top = reinterpret_cast<uintptr_t*>(
      (reinterpret_cast<uintptr_t>(stack) + kStackSize - 64) & ~uintptr_t{15});
  *top = reinterpret_cast<uintptr_t>(&VforkChild);
  const long child = syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, top,
                             nullptr, nullptr, 0);
  if (child > 0) waitpid(static_cast<pid_t>(child), nullptr, 0);
  free(stack);
#endif
  PTRACE_TEST_NO_TAIL_CALL();
}

void* BlockedThread(void* arg) {
  // Every signal blocked: this thread could never answer the watchdog.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (write(kReadyFd, &tid, sizeof(tid)) != sizeof(tid)) _exit(3);
  if (arg != nullptr) {
    PtraceTestBlockedInVfork();
  } else {
    PtraceTestBlockedInPipeRead();
  }
  return nullptr;
}

// Child mode: `threads` threads block until fd 3 reaches EOF, then the
// process exits with status 0.
[[noreturn]] PTRACE_TEST_NOINLINE void RunChild(bool vfork, int threads) {
  std::vector<pthread_t> ids(static_cast<size_t>(threads));
  for (pthread_t& id : ids) {
    if (pthread_create(&id, nullptr, BlockedThread, vfork ? &ids : nullptr) !=
        0) {
      _exit(2);
    }
  }
  for (pthread_t id : ids) pthread_join(id, nullptr);
  _exit(0);
}

__attribute__((constructor)) void MaybeRunChild(int argc, char** argv, char**) {
  if (argc == 4 && strcmp(argv[1], kChildFlag) == 0) {
    RunChild(strcmp(argv[2], "vfork") == 0, atoi(argv[3]));
  }
}

}  // namespace ptrace_unwinder_test

namespace gtest_watchdog_internal {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr int64_t kSecond = 1'000'000'000;

std::string ReadFile(const std::string& path) {
  std::string text;
  FILE* f = fopen(path.c_str(), "re");
  if (f == nullptr) return text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  fclose(f);
  return text;
}

std::string TaskFile(pid_t pid, pid_t tid, const char* name) {
  return ReadFile("/proc/" + std::to_string(pid) + "/task/" +
                  std::to_string(tid) + "/" + name);
}

char State(pid_t pid, pid_t tid) {
  const std::string stat = TaskFile(pid, tid, "stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? '?'
             : stat[paren + 2];
}

// The state of a thread that was just let go: it may still be running back
// into its blocking call ('R') for a moment, but must not stay stopped.
char SettledState(pid_t pid, pid_t tid) {
  const int64_t deadline = NowNs() + 5 * kSecond;
  char state = State(pid, tid);
  while (state == 'R' && NowNs() < deadline) {
    usleep(1000);
    state = State(pid, tid);
  }
  return state;
}

std::string TracerPid(pid_t pid, pid_t tid) {
  const std::string status = TaskFile(pid, tid, "status");
  const size_t at = status.find("TracerPid:");
  if (at == std::string::npos) return "?";
  return std::to_string(atoi(status.c_str() + at + 10));
}

// A re-executed copy of this binary whose threads block; see RunChild().
class Child {
 public:
  // Starts it and waits until every thread is blocked where it should be.
  void Start(bool vfork, int threads) {
    int release[2];
    int ready[2];
    ASSERT_EQ(pipe2(release, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, release[0], 3);
    posix_spawn_file_actions_adddup2(&actions, ready[1], 4);
    const std::string count = std::to_string(threads);
    char* argv[] = {const_cast<char*>("/proc/self/exe"),
                    const_cast<char*>(ptrace_unwinder_test::kChildFlag),
                    const_cast<char*>(vfork ? "vfork" : "pipe"),
                    const_cast<char*>(count.c_str()), nullptr};
    const int rc =
        posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(release[0]);
    close(ready[1]);
    release_fd_ = release[1];
    ASSERT_EQ(rc, 0) << strerror(rc);

    const int64_t deadline = NowNs() + 20 * kSecond;
    while (tids_.size() < static_cast<size_t>(threads)) {
      pollfd p{ready[0], POLLIN, 0};
      ASSERT_EQ(poll(&p, 1, 20'000), 1) << "child not ready";
      pid_t tid;
      ASSERT_EQ(read(ready[0], &tid, sizeof(tid)),
                static_cast<ssize_t>(sizeof(tid)));
      tids_.push_back(tid);
    }
    close(ready[0]);
    // Blocked means: in read(2) on the pipe, or in D for the vfork parent;
    // for the main thread, in pthread_join() (a futex wait).
    auto blocked = [&](pid_t tid) {
      if (tid == pid_) {
        return State(pid_, tid) == 'S' &&
               atoi(TaskFile(pid_, tid, "syscall").c_str()) == SYS_futex;
      }
      return vfork
                 ? State(pid_, tid) == 'D'
                 : State(pid_, tid) == 'S' &&
                       atoi(TaskFile(pid_, tid, "syscall").c_str()) == SYS_read;
    };
    std::vector<pid_t> all = tids_;
    all.push_back(pid_);
    for (pid_t tid : all) {
      while (!blocked(tid)) {
        ASSERT_LT(NowNs(), deadline) << "thread " << tid << " never blocked";
        usleep(1000);
      }
    }
  }

  // Releases the threads; the child must then exit with status 0.
  void ExpectCleanExit() {
    ASSERT_GT(pid_, 0);
    close(release_fd_);
    release_fd_ = -1;
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = 0;
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  ~Child() {
    if (release_fd_ >= 0) close(release_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  const std::vector<pid_t>& tids() const { return tids_; }

 private:
  pid_t pid_ = 0;
  int release_fd_ = -1;
  std::vector<pid_t> tids_;
};

// Attaches, or skips the test where this machine forbids ptrace altogether
// (e.g. Yama ptrace_scope 3).
#define ATTACH_OR_SKIP(unwinder, pid)                       \
  std::string attach_error;                                 \
  std::unique_ptr<PtraceUnwinder> unwinder =                \
      PtraceUnwinder::Attach(pid, &attach_error);           \
  if (unwinder == nullptr &&                                \
      attach_error.rfind("ptrace not permitted", 0) == 0) { \
    GTEST_SKIP() << attach_error;                           \
  }                                                         \
  ASSERT_NE(unwinder, nullptr) << attach_error

// All function names of all frames, one per line, for matching and
// readable failures.
std::string Describe(Symbolizer* symbolizer, const UnwoundThread& thread) {
  std::string text;
  for (uint64_t pc : thread.pcs) {
    for (const SourceFrame& frame : symbolizer->Symbolize(pc)) {
      text += (frame.function.empty() ? "??" : frame.function) + "\n";
    }
  }
  return text;
}

TEST(PtraceUnwinderTest, UnwindsThreadsThatBlockAllSignals) {
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, /*threads=*/2));
  const pid_t tid = child.tids()[0];
  // The main thread (in pthread_join) as well.
  const std::vector<pid_t> tids = {tid, child.pid()};
  {
    ATTACH_OR_SKIP(unwinder, child.pid());
    const int64_t start = NowNs();
    const std::vector<UnwoundThread> threads =
        unwinder->Unwind(tids, 64, NowNs() + 10 * kSecond);
    std::printf("Unwind of 2 threads: %.2f ms\n", (NowNs() - start) / 1e6);
    ASSERT_THAT(threads, SizeIs(2));

    std::string error;
    std::unique_ptr<Symbolizer> symbolizer =
        Symbolizer::ForProcess(child.pid(), &error);
    ASSERT_NE(symbolizer, nullptr) << error;
    EXPECT_EQ(threads[0].tid, tid);
    EXPECT_THAT(threads[0].error, IsEmpty());
    EXPECT_FALSE(threads[0].truncated);
    const std::string frames = Describe(symbolizer.get(), threads[0]);
    EXPECT_THAT(frames, HasSubstr("PtraceTestBlockedInPipeRead\n")) << frames;
    EXPECT_THAT(frames, HasSubstr("BlockedThread(void*)\n")) << frames;
    // The innermost frame is read() itself, in libc.
    ASSERT_THAT(threads[0].pcs, Not(IsEmpty()));
    EXPECT_THAT(symbolizer->Symbolize(threads[0].pcs[0]).back().module,
                HasSubstr("libc"));

    EXPECT_EQ(threads[1].tid, child.pid());
    EXPECT_THAT(threads[1].error, IsEmpty());
    const std::string main_frames = Describe(symbolizer.get(), threads[1]);
    EXPECT_THAT(main_frames, HasSubstr("RunChild(bool, int)\n")) << main_frames;
    // Detached as soon as unwound, before Unwind() returns.
    EXPECT_EQ(TracerPid(child.pid(), tid), "0");
  }
  // After the unwinder is gone: blocked exactly as before, not stopped.
  EXPECT_EQ(SettledState(child.pid(), tid), 'S');
  EXPECT_EQ(SettledState(child.pid(), child.pid()), 'S');
  EXPECT_EQ(TracerPid(child.pid(), tid), "0");
  EXPECT_EQ(atoi(TaskFile(child.pid(), tid, "syscall").c_str()), SYS_read);
  child.ExpectCleanExit();
}

TEST(PtraceUnwinderTest, MaxFramesTruncates) {
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, /*threads=*/1));
  ATTACH_OR_SKIP(unwinder, child.pid());
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind(child.tids(), 2, NowNs() + 10 * kSecond);
  ASSERT_THAT(threads, SizeIs(1));
  EXPECT_THAT(threads[0].pcs, SizeIs(2));
  EXPECT_TRUE(threads[0].truncated);
  EXPECT_THAT(threads[0].error, IsEmpty());
  unwinder.reset();
  child.ExpectCleanExit();
}

TEST(PtraceUnwinderTest, UnwindsOneHundredThreads) {
  constexpr int kThreads = 100;
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, kThreads));
  const int64_t attach_start = NowNs();
  ATTACH_OR_SKIP(unwinder, child.pid());
  const int64_t start = NowNs();
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind(child.tids(), 64, NowNs() + 60 * kSecond);
  const int64_t elapsed = NowNs() - start;
  std::printf("Attach: %.2f ms; Unwind of %d threads: %.2f ms\n",
              (start - attach_start) / 1e6, kThreads, elapsed / 1e6);
  ASSERT_THAT(threads, SizeIs(kThreads));
  std::string error;
  std::unique_ptr<Symbolizer> symbolizer =
      Symbolizer::ForProcess(child.pid(), &error);
  ASSERT_NE(symbolizer, nullptr) << error;
  for (const UnwoundThread& thread : threads) {
    EXPECT_THAT(thread.error, IsEmpty()) << thread.tid;
    EXPECT_THAT(Describe(symbolizer.get(), thread),
                HasSubstr("PtraceTestBlockedInPipeRead\n"))
        << thread.tid;
  }
  unwinder.reset();
  for (pid_t tid : child.tids()) {
    EXPECT_EQ(SettledState(child.pid(), tid), 'S') << tid;
  }
  child.ExpectCleanExit();
}

TEST(PtraceUnwinderTest, PastDeadlineTimesOutEveryThreadPromptly) {
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, /*threads=*/3));
  ATTACH_OR_SKIP(unwinder, child.pid());
  const int64_t start = NowNs();
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind(child.tids(), 64, start - 1);
  EXPECT_LT(NowNs() - start, kSecond / 10);
  ASSERT_THAT(threads, SizeIs(3));
  for (size_t i = 0; i < threads.size(); ++i) {
    EXPECT_EQ(threads[i].tid, child.tids()[i]);
    EXPECT_EQ(threads[i].error, "timed out");
    EXPECT_THAT(threads[i].pcs, IsEmpty());
  }
  unwinder.reset();
  for (pid_t tid : child.tids()) {
    EXPECT_EQ(SettledState(child.pid(), tid), 'S') << tid;
    EXPECT_EQ(TracerPid(child.pid(), tid), "0") << tid;
  }
  child.ExpectCleanExit();
}

// Deadlines that expire while threads are being seized, stopped or unwound:
// whatever each thread's outcome, none is left stopped or traced.
TEST(PtraceUnwinderTest, ExpiringDeadlinesLeaveNothingStopped) {
  constexpr int kThreads = 20;
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, kThreads));
  for (int64_t budget_us : {0, 10, 30, 100, 300, 1000, 3000}) {
    {
      ATTACH_OR_SKIP(unwinder, child.pid());
      const std::vector<UnwoundThread> threads =
          unwinder->Unwind(child.tids(), 64, NowNs() + budget_us * 1000);
      ASSERT_THAT(threads, SizeIs(kThreads));
      for (const UnwoundThread& thread : threads) {
        EXPECT_THAT(thread.error, AnyOf(IsEmpty(), Eq("timed out")))
            << thread.tid;
        EXPECT_EQ(thread.truncated,
                  thread.error == "timed out" && !thread.pcs.empty())
            << thread.tid;
      }
    }
    for (pid_t tid : child.tids()) {
      EXPECT_EQ(SettledState(child.pid(), tid), 'S') << tid << " " << budget_us;
      EXPECT_EQ(TracerPid(child.pid(), tid), "0") << tid << " " << budget_us;
    }
  }
  child.ExpectCleanExit();
}

// A thread in uninterruptible sleep cannot be ptrace-stopped until the sleep
// ends; it is read without stopping it, and never left traced.
TEST(PtraceUnwinderTest, UninterruptibleSleepIsReadWithoutStopping) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the test's vfork child is x86-64 only";
#endif
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/true, /*threads=*/1));
  const pid_t tid = child.tids()[0];
  ATTACH_OR_SKIP(unwinder, child.pid());
  const int64_t start = NowNs();
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind({tid}, 64, NowNs() + 10 * kSecond);
  EXPECT_LT(NowNs() - start, kSecond);
  ASSERT_THAT(threads, SizeIs(1));
  EXPECT_EQ(State(child.pid(), tid), 'D');
  EXPECT_EQ(TracerPid(child.pid(), tid), "0");
  std::string error;
  std::unique_ptr<Symbolizer> symbolizer =
      Symbolizer::ForProcess(child.pid(), &error);
  ASSERT_NE(symbolizer, nullptr) << error;
  const std::string frames = Describe(symbolizer.get(), threads[0]);
  EXPECT_THAT(frames, HasSubstr("PtraceTestBlockedInVfork\n"))
      << frames << threads[0].error;
  unwinder.reset();
  child.ExpectCleanExit();
}

TEST(PtraceUnwinderTest, UnknownThreadIsAnError) {
  Child child;
  ASSERT_NO_FATAL_FAILURE(child.Start(/*vfork=*/false, /*threads=*/1));
  ATTACH_OR_SKIP(unwinder, child.pid());
  // Our own thread is not one of the child's.
  const pid_t ours = static_cast<pid_t>(syscall(SYS_gettid));
  const std::vector<UnwoundThread> threads =
      unwinder->Unwind({ours, child.tids()[0]}, 64, NowNs() + 10 * kSecond);
  ASSERT_THAT(threads, SizeIs(2));
  EXPECT_THAT(threads[0].error, StartsWith("no thread"));
  EXPECT_THAT(threads[0].pcs, IsEmpty());
  EXPECT_THAT(threads[1].error, IsEmpty());
  EXPECT_THAT(threads[1].pcs, Not(IsEmpty()));
  unwinder.reset();
  child.ExpectCleanExit();
}

TEST(PtraceUnwinderTest, NonexistentProcessFails) {
  // Linux pids never exceed 2^22, so INT_MAX names no process.
  std::string error;
  EXPECT_EQ(PtraceUnwinder::Attach(INT_MAX, &error), nullptr);
  EXPECT_EQ(error, "no such process: " + std::to_string(INT_MAX));
}

TEST(PtraceUnwinderTest, OwnProcessFails) {
  std::string error;
  EXPECT_EQ(PtraceUnwinder::Attach(getpid(), &error), nullptr);
  EXPECT_THAT(error, HasSubstr("own process"));
}

// As root, a child that gives up root may not trace us: the error says why.
TEST(PtraceUnwinderTest, DeniedAttachExplainsWhy) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop privileges";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t parent = getpid();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    std::string result = "setresuid failed";
    if (setresgid(65534, 65534, 65534) == 0 &&
        setresuid(65534, 65534, 65534) == 0) {
      std::string error;
      result = PtraceUnwinder::Attach(parent, &error) == nullptr
                   ? error
                   : std::string("attached");
    }
    const ssize_t written = write(fds[1], result.data(), result.size());
    _exit(written == static_cast<ssize_t>(result.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string result;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    result.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(result, StartsWith("ptrace not permitted: "));
  EXPECT_THAT(result, AnyOf(HasSubstr("differ from ours"), HasSubstr("Yama"),
                            HasSubstr("seccomp")));
}

}  // namespace
}  // namespace gtest_watchdog_internal
