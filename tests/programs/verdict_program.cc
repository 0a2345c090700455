// Stalls whose report must open with a verdict — the one line that says why
// the test is stuck — and describe what each blocked system call waits for:
// a socket whose peer never answers, a pipe nobody writes, a child that
// never ends (also when SIGQUIT interrupts the wait), a busy loop, a deadlock,
// a semaphore nobody posts, a mutex held by a thread blocked in read(), a loop
// of short sleeps, and a condition variable nobody notifies. Run by
// tests/integration/verdict_test with --gtest_filter=Verdict.<Name>
// --gtest_watchdog_timeout=1s.
// `// @block:NAME` marks where a thread blocks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

extern char** environ;

namespace {

// A server on 127.0.0.1 that listens but never accepts: the kernel
// completes the client's connection into the backlog, and nothing is ever
// sent on it. Returns the connected client's descriptor; prints the port.
int ConnectToASilentServer() {
  const int server = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(server, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(server, 1), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(client, 0);
  EXPECT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  fprintf(stderr, "verdict_program: server port %d\n",
          static_cast<int>(ntohs(addr.sin_port)));
  fflush(stderr);
  return client;
}

TEST(Verdict, RecvFromSilentServer) {
  const int client = ConnectToASilentServer();
  char buffer[64];
  const ssize_t n = recv(client, buffer, sizeof(buffer), 0);  // @block:recv
  printf("recv returned %zd\n", n);
}

// As RecvFromSilentServer, for a signal from outside (SIGQUIT): a second
// thread says when the test thread is inside recvfrom(2) — read from
// /proc, not guessed — so the signal surely interrupts the call.
TEST(Verdict, RecvUntilSignalled) {
  const int client = ConnectToASilentServer();
  const pid_t me = static_cast<pid_t>(syscall(SYS_gettid));
  std::thread([me] {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", me);
    for (;;) {
      char text[32] = {};
      FILE* f = fopen(path, "r");
      if (f != nullptr) {
        if (fgets(text, sizeof(text), f) == nullptr) text[0] = '\0';
        fclose(f);
      }
      if (atoi(text) == SYS_recvfrom) break;
      usleep(1000);
    }
    fprintf(stderr, "verdict_program: in recv\n");
    fflush(stderr);
  }).detach();
  char buffer[64];
  const ssize_t n = recv(client, buffer, sizeof(buffer), 0);  // @block:recv2
  printf("recv returned %zd\n", n);
}

// This process holds the write end open, so read() never sees end of file.
TEST(Verdict, PipeRead) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  char buffer[64];
  const ssize_t n = read(fds[0], buffer, sizeof(buffer));  // @block:pipe
  printf("read returned %zd\n", n);
  close(fds[0]);
  close(fds[1]);
}

TEST(Verdict, WaitForSleepingChild) {
  pid_t child = 0;
  char sleep_name[] = "sleep";
  char seconds[] = "1000";
  char* argv[] = {sleep_name, seconds, nullptr};
  // glibc's posix_spawnp returns once the child has called exec.
  ASSERT_EQ(posix_spawnp(&child, "sleep", nullptr, nullptr, argv, environ), 0);
  fprintf(stderr, "verdict_program: child pid %d\n", static_cast<int>(child));
  fflush(stderr);
  int status = 0;
  waitpid(child, &status, 0);  // @block:waitpid
  printf("the child ended\n");
}

// Nobody ever sets the flag. Volatile, so that each read stays in the code:
// clang 21 saw that this atomic, internal and never stored, is always false,
// took the loop for an endless one without side effects (undefined) and
// compiled SpinForever() to a bare return.
volatile bool g_stop_spinning = false;

__attribute__((noinline)) void SpinForever() {
  while (!g_stop_spinning) {  // @block:spin
  }
}

TEST(Verdict, Spin) { SpinForever(); }

std::mutex g_first;
std::mutex g_second;

// Takes `mine`, waits until the other thread holds its own, then wants
// `next`: each thread waits for the other, for certain.
void TakeThenWant(const char* name, std::mutex* mine, std::mutex* next,
                  std::atomic<int>* ready) {
  pthread_setname_np(pthread_self(), name);
  std::lock_guard<std::mutex> a(*mine);
  ready->fetch_add(1);
  while (ready->load() < 2) std::this_thread::yield();
  std::lock_guard<std::mutex> b(*next);  // @block:deadlock
}

TEST(Verdict, TwoThreadDeadlock) {
  std::atomic<int> ready{0};
  std::thread first(TakeThenWant, "first", &g_first, &g_second, &ready);
  std::thread second(TakeThenWant, "second", &g_second, &g_first, &ready);
  first.join();  // @block:deadlock_join
  second.join();
}

TEST(Verdict, SemaphoreNobodyPosts) {
  sem_t sem;
  ASSERT_EQ(sem_init(&sem, 0, 0), 0);
  sem_wait(&sem);  // @block:semaphore
  sem_destroy(&sem);
}

std::mutex g_io;

// Locks g_io, then reads a pipe whose write end this process keeps open.
void ReadHoldingTheLock(int fd, std::atomic<bool>* holding) {
  pthread_setname_np(pthread_self(), "io");
  std::lock_guard<std::mutex> lock(g_io);
  char buffer[64];
  holding->store(true);
  const ssize_t n = read(fd, buffer, sizeof(buffer));  // @block:io_read
  printf("read returned %zd\n", n);
}

TEST(Verdict, MutexHeldByReader) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<bool> holding{false};
  std::thread io(ReadHoldingTheLock, fds[0], &holding);
  // The read may not have started yet; by the report, a second later, it
  // has.
  while (!holding.load()) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> lock(g_io);  // @block:io_lock
  }
  io.join();
  close(fds[0]);
  close(fds[1]);
}

// Wakes up 500 times a second and does nothing.
TEST(Verdict, ShortSleepsForever) {
  for (;;) usleep(2000);  // @block:short_sleeps
}

std::mutex g_cv_mutex;
std::condition_variable g_cv;
bool g_notified = false;

TEST(Verdict, ConditionNobodyNotifies) {
  std::unique_lock<std::mutex> lock(g_cv_mutex);
  g_cv.wait(lock, [] { return g_notified; });  // @block:condvar
}

}  // namespace
