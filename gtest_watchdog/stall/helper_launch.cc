#include "gtest_watchdog/stall/helper_launch.h"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest_watchdog/base/clock.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/helper_protocol.h"
#include "gtest_watchdog/stall/dead_man.h"
#include "gtest_watchdog/stall/stall_state.h"

namespace gtest_watchdog_internal {

namespace {

bool g_helper_stays = false;  // it will kill the stopped children
pid_t g_helper_pid = 0;       // never stopped with the test's children

}  // namespace

bool StartHelper() {
  if (g_helper_pid > 0) return true;
  // posix_spawn takes argv as char* const[]: its strings live in writable
  // static storage (a string literal is const); one report per process.
  static char arg[64];
  {
    RawWriter w(-1);
    w.Str(kReportHelperFlag).Char('=').Dec(kSnapshotFd);
    memcpy(arg, w.data(), w.size());
    arg[w.size()] = '\0';
  }
  // Without the file actions the helper would read whatever the program has
  // on fd 3 and write into its fd 4: never start it that way. Without the
  // go pipe it would read the snapshot before it is written.
  if (!g_stall.have_spawn_actions || g_stall.helper_env == nullptr ||
      g_stall.snapshot_fd < 0 || g_stall.go_pipe[1] < 0) {
    return false;
  }
  static char exe[] = "/proc/self/exe";
  char* argv[] = {exe, arg, nullptr};
  // A SIGCHLD disposition of SIG_IGN (or a handler reaping every child)
  // would take the helper's exit status from us. We abort anyway.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, nullptr);
  pid_t pid = 0;
  // posix_spawn, not fork(): glibc's fork takes every malloc arena lock and
  // hangs if a stuck thread holds one. /proc/self/exe, not the path: the
  // CLONE_VM child resolves it to our own executable even if the file was
  // deleted or rebuilt meanwhile. The file actions and the environment
  // (not environ: what the test set since start-up stays out) were built in
  // Prepare(); passing them reads, never allocates.
  if (posix_spawn(&pid, exe, &g_stall.spawn_actions, nullptr, argv,
                  g_stall.helper_env) != 0) {
    return false;
  }
  // From here on the dead-man kills it if the report hangs.
  DeadMan::SetHelperPid(pid);
  g_helper_pid = pid;
  return true;
}

bool RunHelper(int64_t deadline_ns) {
  if (!StartHelper()) return false;
  const pid_t pid = g_helper_pid;
  // Under Yama's ptrace_scope 1 a child may not trace its parent unless
  // named: permit the helper, and only it, to unwind threads that could not
  // answer our signal; withdrawn as soon as it is done. EINVAL without Yama.
  prctl(PR_SET_PTRACER, pid, 0, 0, 0);
  // The snapshot is complete and we may be traced: the helper, waiting
  // since StartHelper(), reads it now. A helper that already ended (it
  // refused, or failed) is reaped below; SIGPIPE is blocked on this thread.
  const char go = 'g';
  while (write(g_stall.go_pipe[1], &go, 1) < 0 && errno == EINTR) {
  }
  for (;;) {
    // Complete: it stays to kill the children we stop, after we are gone.
    char done = 0;
    if (read(g_stall.done_pipe[0], &done, 1) == 1) {
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      g_helper_stays = true;
      return true;
    }
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    if (r < 0 && errno != EINTR) {
      // A test thread in wait(-1) may have reaped the helper (ECHILD). It
      // writes the failure message last, after the report: its presence
      // says the report is complete.
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      struct stat st;
      return fstat(g_stall.message_fd, &st) == 0 && st.st_size > 0;
    }
    if (MonotonicNowNs() >= deadline_ns) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      prctl(PR_SET_PTRACER, 0, 0, 0, 0);
      DeadMan::SetHelperPid(0);
      return false;
    }
    const timespec pause = {0, 2000000};
    nanosleep(&pause, nullptr);
  }
}

pid_t HelperPid() { return g_helper_pid; }

bool HelperStays() { return g_helper_stays; }

void HandChildrenToHelper(const pid_t* pids, int n) {
  if (!g_helper_stays) return;
  const ssize_t bytes = static_cast<ssize_t>(sizeof(pid_t)) * n;
  g_helper_stays =
      WriteAll(g_stall.go_pipe[1], reinterpret_cast<const char*>(pids),
               static_cast<size_t>(bytes));
}

}  // namespace gtest_watchdog_internal
