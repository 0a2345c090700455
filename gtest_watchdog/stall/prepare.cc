// StallReporter's start-up half (stall_reporter.h): Prepare and
// AttachWatchdogThread make everything the stall path needs (stall_state.h)
// while allocating and opening files is still safe.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gtest_watchdog/dump/helper_protocol.h"
#include "gtest_watchdog/dump/stack_collector.h"
#include "gtest_watchdog/stall/dead_man.h"
#include "gtest_watchdog/stall/exit_guard.h"
#include "gtest_watchdog/stall/fatal_signals.h"
#include "gtest_watchdog/stall/helper_launch.h"
#include "gtest_watchdog/stall/stall_reporter.h"
#include "gtest_watchdog/stall/stall_state.h"

extern char** environ;

namespace gtest_watchdog_internal {
namespace {

// Where the helper leaves the failure message, where it waits for ptrace
// permission, and where it says the report is complete.
constexpr int kMessageFd = kReportHelperMessageFd;
constexpr int kGoFd = kReportHelperGoFd;
constexpr int kDoneFd = kReportHelperDoneFd;

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
  g_stall.timings = settings;  // the strings are copied below, into fixed room
  g_stall.pid = getpid();
  g_stall.stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, kFirstPrivateFd);
  if (g_stall.stderr_fd < 0 && errno == EBADF) {
    // Started without stderr (2>&-): the report goes nowhere, but not into
    // whatever the program opens later as fd 2 (or into our own spare
    // descriptors, opened below), and the helper, which needs an fd 2 to
    // start, still writes the JSON report and the failure message.
    g_stall.stderr_fd = AboveHelperFds(open("/dev/null", O_WRONLY | O_CLOEXEC));
  }
  if (g_stall.stderr_fd < 0) g_stall.stderr_fd = 2;
  const ssize_t n =
      readlink("/proc/self/exe", g_stall.exe, sizeof(g_stall.exe) - 1);
  g_stall.exe[n > 0 ? n : 0] = '\0';

  g_stall.snapshot_fd = AboveHelperFds(static_cast<int>(
      syscall(SYS_memfd_create, kSnapshotMemfdName, MFD_CLOEXEC)));
  g_stall.message_fd = AboveHelperFds(static_cast<int>(
      syscall(SYS_memfd_create, "gtest_watchdog_message", MFD_CLOEXEC)));
  for (int* p : {g_stall.go_pipe, g_stall.done_pipe}) {
    if (pipe2(p, O_CLOEXEC) == 0) {
      p[0] = AboveHelperFds(p[0]);
      p[1] = AboveHelperFds(p[1]);
    } else {
      p[0] = p[1] = -1;
    }
  }
  // Our end of the done pipe is polled, never blocked on.
  if (g_stall.done_pipe[0] >= 0) {
    fcntl(g_stall.done_pipe[0], F_SETFL, O_NONBLOCK);
  }
  for (int& fd : g_stall.spare_fds) {
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  g_stall.color = settings.color;
  if (settings.json_report.size() < sizeof(g_stall.json_report)) {
    memcpy(g_stall.json_report, settings.json_report.c_str(),
           settings.json_report.size() + 1);
  }
  // The helper gets the report's stderr (our copy of fd 2 as it was at
  // start-up, not whatever a test redirected fd 2 to), the snapshot on
  // kSnapshotFd, and no other descriptor of ours.
  if (g_stall.snapshot_fd >= 0 && g_stall.message_fd >= 0 &&
      g_stall.go_pipe[0] >= 0 && g_stall.done_pipe[1] >= 0 &&
      posix_spawn_file_actions_init(&g_stall.spawn_actions) == 0) {
    g_stall.have_spawn_actions =
        posix_spawn_file_actions_adddup2(&g_stall.spawn_actions,
                                         g_stall.stderr_fd, 2) == 0 &&
        posix_spawn_file_actions_adddup2(
            &g_stall.spawn_actions, g_stall.snapshot_fd, kSnapshotFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_stall.spawn_actions,
                                         g_stall.message_fd, kMessageFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_stall.spawn_actions,
                                         g_stall.go_pipe[0], kGoFd) == 0 &&
        posix_spawn_file_actions_adddup2(&g_stall.spawn_actions,
                                         g_stall.done_pipe[1], kDoneFd) == 0 &&
        posix_spawn_file_actions_addclosefrom_np(&g_stall.spawn_actions,
                                                 kDoneFd + 1) == 0;
  }
  // Once, at start-up (with whatever main() set before InitGoogleTest):
  // the environment of every helper this process may start.
  if (g_stall.helper_env == nullptr) {
    g_stall.helper_env = CopyEnvironment(environ);
  }
  g_stall.tids = MapArray<pid_t>(kPreallocatedThreads);
  g_stall.kernel = MapArray<KernelThreadInfo>(kPreallocatedThreads);
  g_stall.stacks = MapArray<ThreadStack>(kPreallocatedThreads);
  g_stall.in = MapArray<SnapshotThreadIn>(kPreallocatedThreads);
  g_stall.futex = MapArray<FutexWindow>(kPreallocatedThreads);
  g_stall.cpu = MapArray<CpuSample>(kPreallocatedThreads);
  g_stall.frozen_pids = MapArray<pid_t>(kChildPidCapacity);
  g_stall.sample_slots =
      MapArray<ThreadStack>(kExtraStackSamples * kMaxSampledThreads);
  // After GoogleTest's objects were made (InitGoogleTest ran): runs before
  // the static destructors that end them.
  if (atexit(&OnExitStarts) != 0) {
    // Only without memory for the handler list: a report during exit()
    // then reads GoogleTest's objects as it always did.
  }
  return g_stall.have_spawn_actions && g_stall.helper_env != nullptr &&
         g_stall.tids != nullptr && g_stall.kernel != nullptr &&
         g_stall.stacks != nullptr && g_stall.in != nullptr &&
         g_stall.futex != nullptr && g_stall.cpu != nullptr &&
         g_stall.frozen_pids != nullptr && StackCollector::Install() != 0;
}

void StallReporter::AttachWatchdogThread() {
  g_stall.watchdog_tid = static_cast<pid_t>(syscall(SYS_gettid));
  FatalSignals::SetReportingThread(g_stall.watchdog_tid);
  DeadMan::InstallForThisThread(g_stall.stderr_fd);
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

}  // namespace gtest_watchdog_internal
