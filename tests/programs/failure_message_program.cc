// Hangs and crashes whose failure in GoogleTest's XML/JSON output must carry
// the verdict right after the headline (what a CI dashboard shows): a read
// from a pipe nobody writes, a deadlock, a crash on a worker thread, a read
// interrupted by SIGQUIT, and the same read and crash when the report helper
// cannot start (FMP_NO_EXEC=1: a seccomp filter refuses execve, as a
// sandboxed test program's would). Run by
// tests/integration/failure_message_test with --gtest_filter=FailureMessage.*
// and --gtest_output=xml:PATH or json:PATH.
// `// @block:NAME` marks where a thread blocks or crashes.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

namespace {

void Say(const char* text) {
  const ssize_t ignored = write(2, text, strlen(text));
  (void)ignored;
}

// FMP_NO_EXEC=1: no thread of this process, nor any child it starts, may
// execve again (EPERM), so the report helper cannot start and the stalled
// process writes the fallback report itself. Says whether it holds.
void DenyExecIfAsked() {
  const char* ask = getenv("FMP_NO_EXEC");
  if (ask == nullptr || strcmp(ask, "1") != 0) return;
#if defined(__x86_64__)
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  sock_fprog program = {
      static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  // Every thread (the watchdog's starts the helper): TSYNC.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
              &program) == 0) {
    Say("failure_message_program: exec denied\n");
    return;
  }
#endif
  Say("failure_message_program: cannot deny exec here\n");
}

// Reads a pipe whose write end this process keeps: never returns.
void ReadForever() {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  char buffer[64];
  const ssize_t n = read(fds[0], buffer, sizeof(buffer));  // @block:pipe
  printf("read returned %zd\n", n);
}

// The test thread's name holds what XML and a terminal must not take
// as markup or control: <, &, a quote and an escape sequence.
TEST(FailureMessage, PipeRead) {
  DenyExecIfAsked();
  pthread_setname_np(pthread_self(), "r<&\"\x1b[1m");
  ReadForever();
}

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

TEST(FailureMessage, Deadlock) {
  std::atomic<int> ready{0};
  std::thread first(TakeThenWant, "first", &g_first, &g_second, &ready);
  std::thread second(TakeThenWant, "second", &g_second, &g_first, &ready);
  first.join();
  second.join();
}

// Not null: UBSan would report a null store itself, before any SIGSEGV.
int* volatile g_null = reinterpret_cast<int*>(16);

__attribute__((noinline)) void WriteThroughNull() {
  *g_null = 42;  // @block:crash
}

// The crash is on a worker: the headline names the signal, only the
// verdict which thread and where.
TEST(FailureMessage, CrashOnAWorker) {
  DenyExecIfAsked();
  std::thread crasher([] {
    pthread_setname_np(pthread_self(), "crasher");
    WriteThroughNull();
  });
  crasher.join();
}

// SIGQUIT (an outer runner's) interrupts the test thread in read(): a
// second thread sends it once /proc shows the test thread there.
TEST(FailureMessage, ReadUntilSignalled) {
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
      // "0 0x5 ..." (read is system call 0 on x86-64); "running" is not.
      if (text[0] >= '0' && text[0] <= '9' && atoi(text) == SYS_read) break;
      usleep(1000);
    }
    syscall(SYS_tgkill, getpid(), me, SIGQUIT);
  }).detach();
  ReadForever();
}

}  // namespace
