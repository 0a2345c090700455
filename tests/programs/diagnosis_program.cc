// Stalls whose report must say *why*: deadlock cycles of two and three
// threads, a condition-variable wait that is not a deadlock, a rwlock held
// for writing, a thread that answers no signal, and child processes that
// must not outlive the test binary. Run by tests/integration/diagnosis_test.
// `// @block:NAME` marks where a thread blocks.
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "gtest/gtest.h"

extern char** environ;

namespace {

std::mutex g_first;
std::mutex g_second;
std::mutex g_third;

void WaitForAll(std::atomic<int>* ready, int n) {
  ready->fetch_add(1);
  while (ready->load() < n) std::this_thread::yield();
}

// Each thread takes `mine`, waits until every thread holds its own, then
// wants `next`: a cycle of waits.
void TakeThenWant(std::mutex* mine, std::mutex* next, std::atomic<int>* ready,
                  int n) {
  std::lock_guard<std::mutex> a(*mine);
  WaitForAll(ready, n);
  std::lock_guard<std::mutex> b(*next);  // @block:cycle
}

TEST(Diagnosis, TwoThreadCycle) {
  std::atomic<int> ready{0};
  std::thread t1(TakeThenWant, &g_first, &g_second, &ready, 2);
  std::thread t2(TakeThenWant, &g_second, &g_first, &ready, 2);
  t1.join();
  t2.join();
}

TEST(Diagnosis, ThreeThreadCycle) {
  std::atomic<int> ready{0};
  std::thread t1(TakeThenWant, &g_first, &g_second, &ready, 3);
  std::thread t2(TakeThenWant, &g_second, &g_third, &ready, 3);
  std::thread t3(TakeThenWant, &g_third, &g_first, &ready, 3);
  t1.join();
  t2.join();
  t3.join();
}

std::mutex g_cv_mutex;
std::condition_variable g_cv;
bool g_never = false;

TEST(Diagnosis, ConditionVariableWaitIsNotADeadlock) {
  std::unique_lock<std::mutex> lock(g_cv_mutex);
  g_cv.wait(lock, [] { return g_never; });  // @block:condvar
}

std::shared_mutex g_rw;

TEST(Diagnosis, WriterWaitsForAWriter) {
  std::atomic<bool> held{false};
  std::thread holder([&] {
    std::unique_lock<std::shared_mutex> w(g_rw);
    held = true;
    for (;;) pause();  // @block:rw_holder
  });
  while (!held) std::this_thread::yield();
  std::unique_lock<std::shared_mutex> w(g_rw);  // @block:rw_writer
  holder.join();
}

// A thread that blocks every signal cannot unwind itself for us: the
// report helper unwinds it from outside.
void DeafBlockedForever(std::mutex* m) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::lock_guard<std::mutex> lock(*m);  // @block:deaf
}

TEST(Diagnosis, DeafThreadStillGetsItsStack) {
  std::lock_guard<std::mutex> hold(g_first);
  std::thread deaf(DeafBlockedForever, &g_first);
  pthread_setname_np(deaf.native_handle(), "deaf_worker");
  deaf.join();  // @block:deaf_join
}

// Starts `sh -c SCRIPT` and returns its pid (0 on failure).
pid_t Spawn(const char* script) {
  pid_t pid = 0;
  char sh[] = "/bin/sh";
  char c[] = "-c";
  char* argv[] = {sh, c, const_cast<char*>(script), nullptr};
  return posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) == 0
             ? pid
             : 0;
}

TEST(Diagnosis, ChildProcessesAreListedAndTerminated) {
  // A direct child, and a child whose own child ignores SIGTERM. Their pids
  // go to stdout so the harness can check none outlives us.
  const pid_t sleeper = Spawn("exec sleep 300");
  const pid_t shell =
      Spawn("trap '' TERM; sleep 301 & echo grandchild $!; wait");
  ASSERT_GT(sleeper, 0);
  ASSERT_GT(shell, 0);
  printf("child %d\nchild %d\n", static_cast<int>(sleeper),
         static_cast<int>(shell));
  fflush(stdout);
  for (;;) pause();  // @block:children
}

// The test waits for a child that never ends. Terminating the child would
// wake the test up: the watchdog must keep it stopped until GoogleTest's
// output is written.
TEST(Diagnosis, WaitsForAHangingChild) {
  const pid_t child = Spawn("exec sleep 302");
  ASSERT_GT(child, 0);
  printf("child %d\n", static_cast<int>(child));
  fflush(stdout);
  int status = 0;
  waitpid(child, &status, 0);  // @block:waitpid
  printf("the test woke up\n");
  fflush(stdout);
}

TEST(Diagnosis, RunsAfterTheStall) {}

}  // namespace
