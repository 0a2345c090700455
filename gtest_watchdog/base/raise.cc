#include "gtest_watchdog/base/raise.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace gtest_watchdog_internal {

void RaiseWithDefaultAction(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

void AbortNow() {
  // What abort() does, minus the stdio flush some runtimes add to it (the
  // ThreadSanitizer runtime's abort() flushes stderr, and hangs when a stuck
  // thread holds stderr's lock). The process dies by SIGABRT, core and all.
  RaiseWithDefaultAction(SIGABRT);
  abort();  // not reached unless something re-blocked SIGABRT
}

}  // namespace gtest_watchdog_internal
