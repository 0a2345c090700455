#include "gtest_watchdog/stall/dead_man.h"

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "gtest_watchdog/base/raise.h"
#include "gtest_watchdog/base/raw_writer.h"
#include "gtest_watchdog/dump/signal_info.h"
#include "gtest_watchdog/gtest_output/output_rescue.h"

namespace gtest_watchdog_internal {
namespace {

std::atomic<bool> g_installed{false};
std::atomic<pid_t> g_helper{0};
std::atomic<const pid_t*> g_children{nullptr};
std::atomic<int> g_child_count{0};
int g_fd = 2;
int g_signal = 0;
int64_t g_armed_for_ns = 0;
std::atomic<const char*> g_what{"the report"};
timer_t g_timer;
timer_t g_backstop;  // raw SIGABRT, no handler involved
bool g_have_backstop = false;
// During a signal report SIGABRT keeps its handler, so the raw backstop is
// a real-time signal nobody handles, reset to its default action (end the
// process) when armed.
int g_rt_backstop_signal = 0;
timer_t g_rt_backstop;
bool g_have_rt_backstop = false;

void OnExpiry(int, siginfo_t* info, void*) {
  if (info->si_code != SI_TIMER) return;
  const pid_t helper = g_helper.load();
  if (helper > 0) kill(helper, SIGKILL);
  const pid_t* children = g_children.load();
  const int child_count = g_child_count.load();
  for (int i = 0; children != nullptr && i < child_count; ++i) {
    if (children[i] > 1) kill(children[i], SIGKILL);
  }
  // Runtimes that wrap handlers (ThreadSanitizer's) run them with every
  // signal blocked: let the SIGABRT backstop through in case the write
  // below blocks too.
  sigset_t abrt;
  sigemptyset(&abrt);
  sigaddset(&abrt, SIGABRT);
  if (g_rt_backstop_signal != 0) sigaddset(&abrt, g_rt_backstop_signal);
  pthread_sigmask(SIG_UNBLOCK, &abrt, nullptr);
  if (OutputRescueArmed()) {
    // GoogleTest's output generator hung, after the report: the report is
    // whole; a minimal output file replaces what the generator left.
    RawWriter w(-1);  // formats only
    w.Str("did not finish within ").Seconds(g_armed_for_ns).Str(" s");
    w.Char('\0');
    RescueOutput(g_fd, "", w.data());
    AbortNow();
  }
  RawWriter w(g_fd);
  w.Str("\n[ WATCHDOG ] ")
      .Str(g_what.load())
      .Str(" did not finish within ")
      .Seconds(g_armed_for_ns)
      .Str(" s; aborting with what was written so far\n");
  w.Flush();
  AbortNow();
}

}  // namespace

bool DeadMan::InstallForThisThread(int stderr_fd) {
  g_fd = stderr_fd;
  const int sig = FreeRealTimeSignal(SIGRTMAX - 3);
  if (sig == 0) {
    // The program handles every real-time signal: no handler of ours, no
    // line, but the raw SIGABRT below still ends a report that hangs.
    sigevent raw;
    memset(&raw, 0, sizeof(raw));
    raw.sigev_notify = SIGEV_THREAD_ID;
    raw.sigev_signo = SIGABRT;
    raw._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    g_have_backstop = timer_create(CLOCK_MONOTONIC, &raw, &g_backstop) == 0;
    g_installed.store(g_have_backstop);
    return false;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &OnExpiry;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  if (sigaction(sig, &sa, nullptr) != 0) return false;
  g_signal = sig;
  sigevent sev;
  memset(&sev, 0, sizeof(sev));
  // Aimed at this thread: a process-directed signal could be queued for a
  // thread stuck in uninterruptible sleep and never run.
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = g_signal;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &sev, &g_timer) != 0) return false;
  // The backstop behind the backstop: if our handler cannot run (a runtime
  // that defers signals, e.g. ThreadSanitizer's, while the thread is stuck
  // in a lock), SIGABRT with its default action ends the process in the
  // kernel, no user code involved.
  sigevent raw = sev;
  raw.sigev_signo = SIGABRT;
  g_have_backstop = timer_create(CLOCK_MONOTONIC, &raw, &g_backstop) == 0;
  // The next free real-time signal below ours, left at its default action.
  sigevent rt = sev;
  rt.sigev_signo = FreeRealTimeSignal(g_signal - 1);
  if (rt.sigev_signo != 0 &&
      timer_create(CLOCK_MONOTONIC, &rt, &g_rt_backstop) == 0) {
    g_rt_backstop_signal = rt.sigev_signo;
    g_have_rt_backstop = true;
  }
  g_installed.store(true);
  return true;
}

int DeadMan::signal_number() { return g_signal; }

void DeadMan::Arm(int64_t after_ns, const char* what, bool reset_sigabrt) {
  if (!g_installed.load()) return;
  g_what.store(what);
  // The program may have taken over our signal since start-up: take it back
  // (we are about to abort the process anyway). Without a signal of our own
  // (g_signal 0), only the raw SIGABRT backstop is armed.
  struct sigaction current;
  if (g_signal != 0 && sigaction(g_signal, nullptr, &current) == 0 &&
      current.sa_sigaction != &OnExpiry) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = &OnExpiry;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(g_signal, &sa, nullptr);
  }
  g_armed_for_ns = after_ns;
  itimerspec its;
  memset(&its, 0, sizeof(its));
  its.it_value.tv_sec = after_ns / 1000000000;
  its.it_value.tv_nsec = after_ns % 1000000000;
  if (g_signal != 0) timer_settime(g_timer, 0, &its, nullptr);
  its.it_value.tv_sec += 2;
  itimerspec off;
  memset(&off, 0, sizeof(off));
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  if (reset_sigabrt || !g_have_rt_backstop) {
    // SIGABRT with its default action ends the process in the kernel, core
    // dump and all, no handler involved.
    if (reset_sigabrt) sigaction(SIGABRT, &dfl, nullptr);
    if (g_have_backstop) timer_settime(g_backstop, 0, &its, nullptr);
    if (g_have_rt_backstop) timer_settime(g_rt_backstop, 0, &off, nullptr);
  } else {
    // SIGABRT keeps its handler: a real-time signal at its default action
    // (the caller's thread must not block it) ends the process instead.
    sigaction(g_rt_backstop_signal, &dfl, nullptr);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, g_rt_backstop_signal);
    pthread_sigmask(SIG_UNBLOCK, &rt, nullptr);
    timer_settime(g_rt_backstop, 0, &its, nullptr);
    if (g_have_backstop) timer_settime(g_backstop, 0, &off, nullptr);
  }
}

void DeadMan::SetHelperPid(pid_t pid) { g_helper.store(pid); }

void DeadMan::SetChildPids(const pid_t* pids, int n) {
  g_child_count.store(0);
  g_children.store(pids);
  g_child_count.store(n);
}

}  // namespace gtest_watchdog_internal
